# `cmake --install` puts headers, the library and an exported btadapterConfig.cmake in place, so that
# other projects can `find_package(btadapter)` and link `btadapter::btadapter`.
include(CMakePackageConfigHelpers)
set(BTADAPTER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/btadapter)

install(TARGETS btadapter EXPORT btadapterTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/btadapter DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT btadapterTargets NAMESPACE btadapter:: DESTINATION ${BTADAPTER_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/btadapterConfig.cmake.in
  ${PROJECT_BINARY_DIR}/btadapterConfig.cmake INSTALL_DESTINATION ${BTADAPTER_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/btadapterConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/btadapterConfig.cmake ${PROJECT_BINARY_DIR}/btadapterConfigVersion.cmake
  DESTINATION ${BTADAPTER_CMAKE_DIR})
