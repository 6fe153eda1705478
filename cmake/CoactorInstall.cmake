# cmake --install, and find_package(coactor) from a separate project.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS coactor_core coactor EXPORT coactorTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/coactor DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT coactorTargets NAMESPACE coactor:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/coactor)
if(TARGET coactor_conformance)  # transports/conformance: built only with Catch2
  install(EXPORT coactorConformanceTargets NAMESPACE coactor:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/coactor)
endif()

configure_package_config_file(cmake/coactorConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/coactorConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/coactor)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/coactorConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/coactorConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/coactorConfigVersion.cmake
  cmake/CoactorDependencies.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/coactor)
