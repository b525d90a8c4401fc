# Real pgvector for the pgvector plugin's tests: PGlite (Postgres 17.5 + pgvector 0.8.0 compiled to WASM)
# served on loopback by scripts/servers/pglite.mjs. The npm packages (exact versions, see
# tests/RagPlatform.Plugins.PgVector.Tests/pglite/package.json) are installed once into artifacts/pglite/.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  ensure_debian_packages nodejs npm
fi
pglite_dir=artifacts/pglite
pglite_manifest=tests/RagPlatform.Plugins.PgVector.Tests/pglite/package.json
if ! cmp -s "$pglite_manifest" "$pglite_dir/package.json" \
  || [ ! -f "$pglite_dir/node_modules/@electric-sql/pglite/package.json" ] \
  || [ ! -f "$pglite_dir/node_modules/@electric-sql/pglite-socket/package.json" ]; then
  echo "==> Installing PGlite + pgvector (npm, into $pglite_dir)"
  mkdir -p "$pglite_dir"
  cp "$pglite_manifest" "$pglite_dir/package.json"
  (cd "$pglite_dir" && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
fi
