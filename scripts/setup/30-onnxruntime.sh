# ONNX Runtime 1.30.0 (C API version 30) for the "onnx" embedding provider. No NuGet package of it reaches
# our machines, so the native library comes from the onnxruntime-node npm package, packed once into a cache
# (~/.cache/ragplatform/onnxruntime-1.30.0/) and copied to the fixed path the tests read:
# artifacts/native/libonnxruntime.so.1. Nothing is exported: the plugin finds it from its options, a
# Microsoft.ML.OnnxRuntime package folder, or these two places (see docs/onnx.md).
onnxruntime_version=1.30.0
onnxruntime_cache="${RAGPLATFORM_CACHE:-$HOME/.cache/ragplatform}/onnxruntime-$onnxruntime_version"
onnxruntime_lib="$onnxruntime_cache/libonnxruntime.so.1"
if [ ! -s "$onnxruntime_lib" ]; then
  echo "==> Fetching ONNX Runtime $onnxruntime_version (npm pack onnxruntime-node, once, into $onnxruntime_cache)"
  command -v npm >/dev/null || ensure_debian_packages npm
  mkdir -p "$onnxruntime_cache"
  onnxruntime_tmp=$(mktemp -d)
  (cd "$onnxruntime_tmp" && npm pack --silent "onnxruntime-node@$onnxruntime_version" >/dev/null)
  tar -xzf "$onnxruntime_tmp/onnxruntime-node-$onnxruntime_version.tgz" -C "$onnxruntime_tmp" \
    package/bin/napi-v6/linux/x64/libonnxruntime.so.1
  mv "$onnxruntime_tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$onnxruntime_lib.partial"
  mv "$onnxruntime_lib.partial" "$onnxruntime_lib"
  rm -rf "$onnxruntime_tmp"
fi
mkdir -p artifacts/native
if ! cmp -s "$onnxruntime_lib" artifacts/native/libonnxruntime.so.1; then
  cp "$onnxruntime_lib" artifacts/native/libonnxruntime.so.1
fi
echo "==> ONNX Runtime $onnxruntime_version: artifacts/native/libonnxruntime.so.1"
