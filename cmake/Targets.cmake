# Helpers shared by the library, tools, tests and benchmarks.

# One precompiled torch header, built once and reused by every executable (same flags everywhere).
add_library(btadapter_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch.cpp)
target_link_libraries(btadapter_pch PRIVATE ${TORCH_LIBRARIES})
target_precompile_headers(btadapter_pch PRIVATE <torch/torch.h>)

# The shared library cannot reuse the executables' PCH (it defines btadapter_EXPORTS), so it gets its own.
function(btadapter_use_torch_pch target)
  target_precompile_headers(${target} PRIVATE <torch/torch.h>)
endfunction()

function(btadapter_add_executable name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE btadapter::btadapter CLI11::CLI11 nlohmann_json::nlohmann_json)
  target_precompile_headers(${name} REUSE_FROM btadapter_pch)
  target_compile_options(${name} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()
