#!/usr/bin/env bash
# Regenerates RagPlatform.Ci.slnf: every project of RagPlatform.sln except those that need the Aspire
# packages (absent from our NuGet mirror): the AppHost and the Aspire smoke tests.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet sln RagPlatform.sln list | tail -n +3 | grep -v -e '^AppHost/' -e 'Aspire' | sort | python3 -c '
import json, sys
projects = [line.strip() for line in sys.stdin if line.strip()]
print(json.dumps({"solution": {"path": "RagPlatform.sln", "projects": projects}}, indent=2))
' > RagPlatform.Ci.slnf
echo "RagPlatform.Ci.slnf: $(grep -c csproj RagPlatform.Ci.slnf) projects"
