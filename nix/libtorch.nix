# libtorch from the PyPI torch wheel, pinned by URL and sha256 (nix/pins.nix), made runnable
# the way nixpkgs' torch-bin does it: autoPatchelfHook resolves every NEEDED library against
# nixpkgs' CUDA redistributables, libcuda.so.1 is left to the driver (/run/opengl-driver/lib),
# and nothing is stripped (the wheel's libraries break when stripped).
#
# Only the C++ half of the wheel is kept: lib/ (minus the Python extension), include/ and
# share/cmake, which is the layout tch's torch-sys expects under $LIBTORCH. `build-version`
# holds the wheel's own `torch.__version__`, so torch-sys runs its version check (no bypass)
# and the pipeline's tool identity reads the same string as from a venv's version.py.
#
# cuda = false: the libraries libtorch_cpu.so itself needs (cudart, cupti: the same two small
# runtimes scripts/setup installs) are resolved; those only the CUDA kernels need (cuDNN,
# cuBLAS, NCCL, ...) are left unresolved. tch links libtorch_cpu, and libtorch.so only
# --as-needed, so a CPU build never loads them.
# cuda = true: every library is resolved, plus the driver runpath (autoAddDriverRunpath).
{ lib
, stdenv
, fetchurl
, unzip
, autoPatchelfHook
, autoAddDriverRunpath
, cudaPackages
, wheel
, version
, cuda ? false
}:
let
  # Always needed: libtorch_cpu.so and libtorch_global_deps.so link them.
  cpuRuntime = with cudaPackages; [ cuda_cudart cuda_cupti ];
  # Needed by libtorch_cuda*.so, libc10_cuda.so, libcaffe2_nvrtc.so, libtorch_nvshmem.so.
  gpuRuntime = with cudaPackages; [
    cuda_nvrtc
    cudnn
    libcublas
    libcufft
    libcufile
    libcurand
    libcusolver
    libcusparse
    libcusparse_lt
    nccl
  ] ++ lib.optional (cudaPackages ? libnvshmem) cudaPackages.libnvshmem;
  gpuSonames = [
    "libnvrtc.so.13"
    "libcudnn.so.9"
    "libcublas.so.13"
    "libcublasLt.so.13"
    "libcufft.so.12"
    "libcufile.so.0"
    "libcurand.so.10"
    "libcusolver.so.12"
    "libcusparse.so.12"
    "libcusparseLt.so.0"
    "libnccl.so.2"
    "libnvshmem_host.so.3"
  ];
in
stdenv.mkDerivation {
  pname = if cuda then "libtorch-cuda" else "libtorch";
  inherit version;

  src = fetchurl { inherit (wheel) url sha256; };

  nativeBuildInputs = [ unzip autoPatchelfHook ] ++ lib.optional cuda autoAddDriverRunpath;
  buildInputs = [ stdenv.cc.cc.lib ] ++ cpuRuntime ++ lib.optionals cuda gpuRuntime;

  autoPatchelfIgnoreMissingDeps =
    [ "libcuda.so.1" ]
    ++ lib.optionals (!cuda) gpuSonames
    ++ lib.optional (cuda && !(cudaPackages ? libnvshmem)) "libnvshmem_host.so.3";

  unpackPhase = ''
    runHook preUnpack
    unzip -q "$src" 'torch/lib/*' 'torch/include/*' 'torch/share/*' torch/version.py
    runHook postUnpack
  '';

  dontConfigure = true;
  dontBuild = true;
  dontStrip = true;

  installPhase = ''
    runHook preInstall
    full=$(sed -n "s/^__version__ = '\(.*\)'$/\1/p" torch/version.py)
    case "$full" in
      ${version}|${version}+*) ;;
      *) echo "libtorch: the pinned wheel is torch '$full', not ${version}" >&2; exit 1 ;;
    esac
    mkdir -p $out/lib
    cp -r torch/include torch/share $out/
    # The Python extension wants libpython and is no part of libtorch.
    find torch/lib -maxdepth 1 -name '*.so*' ! -name 'libtorch_python.so' -exec cp -P {} $out/lib/ \;
    printf '%s\n' "$full" > $out/build-version
    runHook postInstall
  '';

  passthru = { inherit cuda; wheelSha256 = wheel.sha256; };

  meta = {
    description = "libtorch ${version} (C++ API) from the PyPI torch wheel" + lib.optionalString cuda ", with CUDA";
    platforms = [ "x86_64-linux" "aarch64-linux" ];
    sourceProvenance = [ lib.sourceTypes.binaryNativeCode ];
  };
}
