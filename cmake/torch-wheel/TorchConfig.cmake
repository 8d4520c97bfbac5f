# A small stand-in for LibTorch's own TorchConfig.cmake, for the LibTorch inside a pip wheel of torch on a
# machine without the CUDA toolkit. LibTorch's config finds the toolkit again (nvcc, CUDAToolkit) when the
# wheel is a CUDA build, although code that only calls LibTorch needs none of it: the wheel's libraries
# load their CUDA libraries themselves. Used by bench/gpu_train_step.sh when the real config fails:
#   cmake -DTorch_DIR=<repo>/cmake/torch-wheel -DBTADAPTER_TORCH_ROOT=<site-packages>/torch
#         [-DBTADAPTER_TORCH_CXX11_ABI=0|1] ...
# It defines what the project reads: the imported target `torch`, TORCH_LIBRARIES, TORCH_INCLUDE_DIRS,
# TORCH_CXX_FLAGS, and TORCH_CUDA_LIBRARIES when the wheel has libtorch_cuda.so.
set(_root "${BTADAPTER_TORCH_ROOT}")
if(NOT _root AND DEFINED ENV{BTADAPTER_TORCH_ROOT})
  set(_root "$ENV{BTADAPTER_TORCH_ROOT}")
endif()
if(NOT EXISTS "${_root}/include/torch/csrc/api/include/torch/torch.h")
  message(FATAL_ERROR "torch-wheel TorchConfig: expected BTADAPTER_TORCH_ROOT to be a torch package folder "
                      "(with include/ and lib/), got '${_root}'")
endif()

set(TORCH_INCLUDE_DIRS "${_root}/include" "${_root}/include/torch/csrc/api/include")
set(_libs)
foreach(_name torch torch_cpu c10)
  find_library(BTADAPTER_TORCH_WHEEL_${_name} ${_name} PATHS "${_root}/lib" NO_DEFAULT_PATH)
  if(NOT BTADAPTER_TORCH_WHEEL_${_name})
    message(FATAL_ERROR "torch-wheel TorchConfig: lib${_name}.so not found in ${_root}/lib")
  endif()
  list(APPEND _libs "${BTADAPTER_TORCH_WHEEL_${_name}}")
endforeach()

set(TORCH_CUDA_LIBRARIES)
if(EXISTS "${_root}/lib/libtorch_cuda.so")
  # Nothing calls libtorch_cuda directly, but its load registers the CUDA backend: keep it (and c10_cuda)
  # even where the linker drops unneeded libraries by default.
  set(TORCH_CUDA_LIBRARIES "-Wl,--no-as-needed,${_root}/lib/libtorch_cuda.so,${_root}/lib/libc10_cuda.so,--as-needed")
  list(APPEND _libs ${TORCH_CUDA_LIBRARIES})
  # The CUDA runtime headers from the wheel's nvidia-* dependencies, if present (cu12: nvidia/cuda_runtime,
  # cu13: nvidia/cu13); c10/cuda headers need them.
  file(GLOB _cuda_headers "${_root}/../nvidia/*/include/cuda_runtime_api.h")
  if(_cuda_headers)
    list(GET _cuda_headers 0 _cuda_header)
    get_filename_component(_cuda_include "${_cuda_header}" DIRECTORY)
    list(APPEND TORCH_INCLUDE_DIRS "${_cuda_include}")
  endif()
endif()

if(NOT DEFINED BTADAPTER_TORCH_CXX11_ABI)
  set(BTADAPTER_TORCH_CXX11_ABI 1)  # every wheel since torch 2.7
endif()
set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=${BTADAPTER_TORCH_CXX11_ABI}")

if(NOT TARGET torch)
  add_library(torch INTERFACE IMPORTED)
  set_target_properties(torch PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${TORCH_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${_libs}"
    INTERFACE_COMPILE_OPTIONS "${TORCH_CXX_FLAGS}")
endif()
set(TORCH_LIBRARIES torch)
set(TORCH_LIBRARY "${BTADAPTER_TORCH_WHEEL_torch}")
set(Torch_FOUND TRUE)
message(STATUS "torch-wheel TorchConfig: ${_root} (CUDA: ${TORCH_CUDA_LIBRARIES})")
