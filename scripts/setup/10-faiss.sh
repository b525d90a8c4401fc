# The FAISS backend's native shim (plugins/RagPlatform.Plugins.Faiss/native) links Debian's static FAISS.
# Built before the .NET build so the plugin project copies libragfaiss.so into its output.
ensure_debian_packages libfaiss-dev cmake g++ libblas-dev liblapack-dev
# Debian's python3-faiss (same FAISS 1.7.3) is the anchor `rag bench query --backend` measures against; its tests run it.
ensure_debian_packages python3-faiss
echo "==> Building the FAISS shim (artifacts/native/libragfaiss.so)"
cmake -S plugins/RagPlatform.Plugins.Faiss/native -B artifacts/native/build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build artifacts/native/build
