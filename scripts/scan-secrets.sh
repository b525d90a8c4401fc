#!/usr/bin/env bash
# Scans captured log files for secrets: whole RagPlatform API keys, OpenAI-style keys, and passwords in
# connection strings or URIs. Prints each finding (file:line, the secret masked) and exits 1 if any.
# Usage: scripts/scan-secrets.sh DIR      (scripts/test.sh runs it over the logs of the whole test run)
set -euo pipefail
dir=${1:?usage: scan-secrets.sh DIR}
patterns=(
  'rag_[a-z0-9]{12}_[A-Za-z0-9_-]{43}'                 # a whole API key (the id alone is public)
  'sk-[A-Za-z0-9_-]{20,}'                              # OpenAI-style secret keys
  '[Pp]assword=[^;*,[:space:]]+'                       # Npgsql/Redis connection-string passwords, unless masked
  '(amqps?|redis|rediss|postgres(ql)?)://[^:/@[:space:]]+:[^@*[:space:]]+@'   # user:password@ in URIs
)
files=$(find "$dir" -type f -name '*.log' 2>/dev/null | wc -l)
lines=$(find "$dir" -type f -name '*.log' -exec cat {} + 2>/dev/null | wc -l)
found=0
for pattern in "${patterns[@]}"; do
  while IFS= read -r hit; do
    [ -n "$hit" ] || continue
    found=$((found + 1))
    echo "secret in log: $(echo "$hit" | cut -c1-200 | sed -E 's/(rag_[a-z0-9]{12}_|sk-|[Pp]assword=|:\/\/[^:]+:)[^ ;@]{0,4}[^ ;@]*/\1****/g')" >&2
  done < <(grep -rEnoI --include='*.log' "$pattern" "$dir" 2>/dev/null | head -n 20 || true)
done
echo "Secret scan: $files log files, $lines lines, $found findings"
[ "$found" -eq 0 ]
