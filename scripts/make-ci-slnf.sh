#!/usr/bin/env bash
# Regenerates RagPlatform.Ci.slnf, the projects CI builds (warnings as errors) and tests: every project of
# RagPlatform.sln, the AppHost and its tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet sln RagPlatform.sln list | tail -n +3 | sort | python3 -c '
import json, sys
projects = [line.strip() for line in sys.stdin if line.strip()]
print(json.dumps({"solution": {"path": "RagPlatform.sln", "projects": projects}}, indent=2))
' > RagPlatform.Ci.slnf
echo "RagPlatform.Ci.slnf: $(grep -c csproj RagPlatform.Ci.slnf) projects"
