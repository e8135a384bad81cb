# `cpack -G DEB` in the build directory: one Debian package with the program, the
# libraries, the headers, the CMake and pkg-config files and share/e3check/, depending on
# Debian 12's runtime packages of what e3check links (libtorch, cJSON, LAPACKE).
set(CPACK_PACKAGE_NAME e3check)
set(CPACK_PACKAGE_VENDOR "e3check")
set(CPACK_PACKAGE_CONTACT "e3check developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libtorch1.13 (>= 1.13.1), libcjson1 (>= 1.7.15), liblapacke (>= 3.11.0), libstdc++6 (>= 12), libgcc-s1, libc6 (>= 2.36)")
# find_package(e3check) and pkg-config e3check resolve cJSON through pkg-config
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libcjson-dev, pkg-config")
include(CPack)
