# What `cmake --install` puts where (GNUInstallDirs, relative to
# CMAKE_INSTALL_PREFIX), and the Debian package CPack builds from it
# (`cpack -G DEB`). dist/README.md says why each file goes where it goes;
# tests/install checks the exact list.

install(TARGETS ricochet RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The scripts, their transcripts and the editors' definitions
# (ricochet.d.lua), in the folder compiled in as RICOCHET_SCRIPT_DIR.
file(GLOB ricochet_scripts CONFIGURE_DEPENDS
     "${PROJECT_SOURCE_DIR}/scripts/*.lua"
     "${PROJECT_SOURCE_DIR}/scripts/*.sim")
install(FILES ${ricochet_scripts}
        DESTINATION ${CMAKE_INSTALL_DATADIR}/ricochet/scripts)

install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

if(NOT WIN32)
  set(RICOCHET_SCRIPT_DIR "${CMAKE_INSTALL_FULL_DATADIR}/ricochet/scripts")
  configure_file(dist/ricochet.bash-completion.in
                 dist/ricochet.bash-completion @ONLY)
  configure_file(dist/ricochet.service.in dist/ricochet.service @ONLY)
  install(FILES dist/ricochet.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  install(FILES "${PROJECT_BINARY_DIR}/dist/ricochet.bash-completion"
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          RENAME ricochet)
  # An example, not a service the package starts: Debian's place for
  # examples (Policy 12.6), not lib/systemd/system (dist/README.md).
  install(FILES "${PROJECT_BINARY_DIR}/dist/ricochet.service"
          DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
endif()

# --- the Debian package ------------------------------------------------------
# Configure with -DCMAKE_INSTALL_PREFIX=/usr: the package installs to the
# prefix the program was built with, so that the scripts folder compiled
# in is the one the package fills (cmake/cpack-options.cmake refuses
# anything else for a .deb).
set(RICOCHET_DEB_MAINTAINER
    "ricochet maintainers <maintainers@ricochet.invalid>"
    CACHE STRING "Maintainer field of the Debian package")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ricochet)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "TCP echo server whose behaviour is a Lua 5.4 script")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${RICOCHET_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The long description; CPack puts the summary above it and indents it
# as Debian's control file wants (an empty line becomes " .").
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"ricochet accepts TCP connections and hands what each client sends to a
Lua script, which decides what goes back and when the connection ends:
banners, framing, slow or partial replies, early or late closes, resets.
In proxy mode it sits between a client and a real server and puts
faults on either direction. The C core owns the sockets and the
graceful half-close.

The package has the program, the scripts that ship (echo, upper, chaos,
proxy, ...), their LuaLS definitions for editors, the manual page, bash
completion, protocol examples and an example systemd unit.")
# dpkg-shlibdeps names the libraries the binary links: libc6 and the Lua
# runtime, liblua5.4-0.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_PROJECT_CONFIG_FILE "${PROJECT_SOURCE_DIR}/cmake/cpack-options.cmake")
include(CPack)
