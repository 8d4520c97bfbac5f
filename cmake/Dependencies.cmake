# Third-party packages, all from Debian 12 (scripts/install_deps.sh installs them).
find_package(Torch REQUIRED)

# Link with lld when the compiler can: about 8x faster than GNU ld on executables that pull in LibTorch,
# which matters with one binary per test file (measured 9.5 s -> 1.2 s per test binary on 2 cores).
option(BTADAPTER_USE_LLD "Link with lld when it is available" ON)
if(BTADAPTER_USE_LLD)
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-fuse-ld=lld" BTADAPTER_HAVE_LLD)
  if(BTADAPTER_HAVE_LLD)
    add_link_options(-fuse-ld=lld)
  endif()
endif()
find_package(Threads REQUIRED)
set(BTADAPTER_PRIVATE_LIBS Threads::Threads)
set(BTADAPTER_PRIVATE_DEFS "")

find_package(nlohmann_json 3 REQUIRED)
list(APPEND BTADAPTER_PRIVATE_LIBS nlohmann_json::nlohmann_json)

if(NOT BTADAPTER_TORCH_ONLY)
  find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs videoio)
  find_package(yaml-cpp REQUIRED)
  find_package(ZLIB REQUIRED)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
  pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
  list(APPEND BTADAPTER_PRIVATE_LIBS ${OpenCV_LIBS} yaml-cpp ZLIB::ZLIB PkgConfig::UTF8PROC)
  # Debian's libsentencepiece embeds protobuf-lite and exports its symbols; linked next to LibTorch's
  # libprotobuf it interposes protobuf's own calls and crashes at load time. So sentencepiece is never
  # linked into libbtadapter: it lives in a plugin that the library dlopen()s with RTLD_DEEPBIND
  # (see src/text/). Its trainer library comes with it.
  find_library(SENTENCEPIECE_TRAIN_LIBRARY sentencepiece_train REQUIRED)
  list(APPEND BTADAPTER_PRIVATE_LIBS ${CMAKE_DL_LIBS})
endif()

# Tools parse their arguments with CLI11 (header-only).
find_package(CLI11 REQUIRED)

# torch::distributed transports for src/dist/. LibTorch does not export the USE_C10D_* switches its c10d
# headers are guarded by, so they are set here when the transport's headers are present: Gloo (CPU,
# always in Debian's LibTorch) and NCCL (CUDA builds whose include tree has nccl.h).
include(CheckIncludeFileCXX)
set(CMAKE_REQUIRED_INCLUDES ${TORCH_INCLUDE_DIRS})
set(CMAKE_REQUIRED_QUIET ON)
check_include_file_cxx(gloo/config.h BTADAPTER_HAVE_GLOO)
if(BTADAPTER_HAVE_GLOO)
  list(APPEND BTADAPTER_PRIVATE_DEFS USE_C10D_GLOO BTADAPTER_HAVE_GLOO)
endif()
# A CUDA LibTorch: code that reads CUDA-only state (the benchmarks' GPU memory statistics) is compiled only
# then, so the CPU build needs no CUDA headers. BTADAPTER_CUDA_DEFS go to the library and the executables.
set(BTADAPTER_WITH_CUDA OFF)
set(BTADAPTER_CUDA_DEFS "")
if(TORCH_CUDA_LIBRARIES OR CUDA_FOUND)
  set(BTADAPTER_WITH_CUDA ON)
  list(APPEND BTADAPTER_CUDA_DEFS BTADAPTER_WITH_CUDA)
  list(APPEND CMAKE_REQUIRED_INCLUDES ${CUDA_INCLUDE_DIRS} ${CUDAToolkit_INCLUDE_DIRS})
  check_include_file_cxx(cuda_runtime_api.h BTADAPTER_HAVE_CUDA_HEADERS)
  if(BTADAPTER_HAVE_CUDA_HEADERS)
    list(APPEND BTADAPTER_CUDA_DEFS BTADAPTER_WITH_CUDA_HEADERS)
  endif()
  check_include_file_cxx(nccl.h BTADAPTER_HAVE_NCCL)
endif()
# Only src/dist/process_group.cpp includes the c10d transports: the NCCL switches go to it alone, so turning
# NCCL off (-DBTADAPTER_USE_NCCL=OFF, e.g. when its headers do not compile) recompiles one file.
option(BTADAPTER_USE_NCCL "Compile the NCCL transport when the CUDA LibTorch has NCCL headers" ON)
set(BTADAPTER_NCCL_DEFS "")
set(BTADAPTER_NCCL OFF)
if(BTADAPTER_USE_NCCL AND BTADAPTER_HAVE_NCCL)
  set(BTADAPTER_NCCL_DEFS USE_C10D_NCCL BTADAPTER_HAVE_NCCL)
  set(BTADAPTER_NCCL ON)
endif()
list(APPEND BTADAPTER_PRIVATE_DEFS ${BTADAPTER_CUDA_DEFS})
unset(CMAKE_REQUIRED_INCLUDES)
unset(CMAKE_REQUIRED_QUIET)
message(STATUS "libbtadapter distributed transports: gloo=${BTADAPTER_HAVE_GLOO} nccl=${BTADAPTER_NCCL}; "
               "CUDA LibTorch: ${BTADAPTER_WITH_CUDA} (runtime headers: ${BTADAPTER_HAVE_CUDA_HEADERS})")
