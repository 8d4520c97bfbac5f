# Helpers shared by the library, tools, tests and benchmarks.

# A clean build spends most of its time instantiating the same torch and JSON templates in every source
# file; a unity build compiles the library as a few large translation units that share them.
set(BTADAPTER_UNITY_BATCH_SIZE 16 CACHE STRING "Library sources per unity translation unit")
# The library's sources are batched by area (src/<area>/): a source added to or edited in one area
# recompiles that area's unit alone instead of shifting every later batch. Other targets (a test area's
# binary) are batched by size.
function(btadapter_use_unity_build target)
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${BTADAPTER_UNITY_BATCH_SIZE})
  get_target_property(sources ${target} SOURCES)
  set(grouped OFF)
  foreach(src ${sources})
    if(src MATCHES "/src/([a-z_]+)/[^/]+\\.cpp$")
      set_source_files_properties(${src} TARGET_DIRECTORY ${target} PROPERTIES UNITY_GROUP ${CMAKE_MATCH_1})
      set(grouped ON)
    endif()
  endforeach()
  if(grouped)
    set_target_properties(${target} PROPERTIES UNITY_BUILD_MODE GROUP)
  endif()
  # In a unity file every source is an included file, so GCC takes their anonymous-namespace members of
  # Impl structs for header types that leak internal linkage; they are not.
  target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
endfunction()

# Executables (tools, benchmarks, tests) hold argument parsing, printing and test logic; the work runs in
# the library, which keeps the build type's optimisation. Compiling them without optimisation halves their
# build time, which is most of CI's (a tool: 55 s at -O3, 28 s at -O0 on this 2-core machine).
set(BTADAPTER_EXECUTABLE_OPTIMIZATION "-O0" CACHE STRING "Optimisation flag of the tools, benchmarks and tests")
function(btadapter_executable_flags target)
  target_compile_options(${target} PRIVATE ${BTADAPTER_EXECUTABLE_OPTIMIZATION})
endfunction()

# One precompiled torch header, built once and reused by every executable (same flags everywhere, so it
# gets the executables' optimisation flag too: GCC rejects a PCH built with another -O).
add_library(btadapter_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch.cpp)
target_link_libraries(btadapter_pch PRIVATE ${TORCH_LIBRARIES})
target_precompile_headers(btadapter_pch PRIVATE <torch/torch.h>)
btadapter_executable_flags(btadapter_pch)

# The shared library cannot reuse the executables' PCH (it defines btadapter_EXPORTS), so it gets its own.
function(btadapter_use_torch_pch target)
  target_precompile_headers(${target} PRIVATE <torch/torch.h>)
endfunction()

function(btadapter_add_executable name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE btadapter::btadapter CLI11::CLI11 nlohmann_json::nlohmann_json)
  if(BTADAPTER_CUDA_DEFS)
    target_compile_definitions(${name} PRIVATE ${BTADAPTER_CUDA_DEFS})
  endif()
  target_precompile_headers(${name} REUSE_FROM btadapter_pch)
  btadapter_executable_flags(${name})
  target_compile_options(${name} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()
