# `cmake --install build --prefix DIR`: the programs, the library with its headers,
# a CMake package (find_package(pcnn) -> pcnn::pcnn), a pkg-config file (pcnn.pc),
# the docs, the example workloads and the example consumer (examples/).
include(CMakePackageConfigHelpers)
set(PCNN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/pcnn)

install(TARGETS ${PCNN_PROGRAMS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS pcnn EXPORT pcnnTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pcnn)
install(DIRECTORY include/pcnn DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pcnn
  FILES_MATCHING PATTERN "*.hpp")
install(DIRECTORY models DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pcnn
  FILES_MATCHING PATTERN "*.hpp")

install(EXPORT pcnnTargets NAMESPACE pcnn:: DESTINATION ${PCNN_CMAKE_DIR})
configure_package_config_file(cmake/pcnnConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/pcnnConfig.cmake INSTALL_DESTINATION ${PCNN_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/pcnnConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/pcnnConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/pcnnConfigVersion.cmake DESTINATION ${PCNN_CMAKE_DIR})

# pcnn.pc: libpcnn is static, so its dependencies go into Libs, not Libs.private.
# The prefix is found from the .pc file's own place, so any --prefix works.
file(RELATIVE_PATH PCNN_PC_PREFIX_FROM_PCFILEDIR /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
configure_file(cmake/pcnn.pc.in ${CMAKE_CURRENT_BINARY_DIR}/pcnn.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/pcnn.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY examples DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY workloads/ DESTINATION ${CMAKE_INSTALL_DATADIR}/pcnn/workloads)
