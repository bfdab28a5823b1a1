# Read by cpack for each generator (CPACK_PROJECT_CONFIG_FILE). A .deb
# installs to /usr, and the program must have been built for /usr: it
# looks for its scripts in the folder it was built with.
if(CPACK_GENERATOR STREQUAL "DEB"
   AND NOT CPACK_PACKAGING_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "a Debian package installs to /usr: configure with "
          "-DCMAKE_INSTALL_PREFIX=/usr (this build is for "
          "${CPACK_PACKAGING_INSTALL_PREFIX})")
endif()
