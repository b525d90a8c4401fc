#!/usr/bin/env bash
# README command #2: everything the test suite needs, then the whole suite.
# Idempotent; safe on a fresh machine that has only the .NET 10 SDK. Prints one closing line
# "Tests: N passed, N failed, N skipped" summed over every test project, and exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
configuration=${CONFIGURATION:-Release}
results="$root/artifacts/test-results"

# Every capability that needs something outside the .NET SDK (Debian packages, npm packages, native
# builds) has one sourced script in scripts/setup/, run in name order. Each is idempotent.
source scripts/lib/apt.sh
for setup in scripts/setup/*.sh; do
  # shellcheck source=/dev/null
  source "$setup"
done

echo "==> Restoring and building (RagPlatform.Ci.slnf, $configuration)"
dotnet build RagPlatform.Ci.slnf -c "$configuration" --nologo -v minimal

echo "==> Running tests"
rm -rf "$results"
status=0
# Every service process and test host of the run copies its log lines here (RagPlatform.Core LogCapture);
# they are scanned for secrets after the run.
logs="$root/artifacts/test-logs"
rm -rf "$logs"
export RAGPLATFORM_LOG_CAPTURE_DIR="$logs"
# One test project at a time: the machines have 2 cores, and the end-to-end suite starts real processes.
dotnet test RagPlatform.Ci.slnf -c "$configuration" --no-build --nologo -m:1 \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" || status=$?

echo "==> Scanning the run's logs for secrets"
bash scripts/scan-secrets.sh "$logs" || status=1

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  value() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  p=$(value passed); f=$(value failed); t=$(value total); e=$(value executed)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${t:-0} - ${e:-0}))
done

if [ "$files" -eq 0 ]; then
  echo "No test results were written." >&2
  status=1
fi

echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
