# What `make install` (cmake --install) puts where, besides the rules beside
# each target (the binaries, the grok patterns, the index template and the
# Kibana objects: grok/, shipper/, indexer/ CMakeLists). With the default
# PREFIX=/usr/local:
#
#   PREFIX/bin/sluice-{shipper,indexer,grok}
#   PREFIX/share/sluice/{patterns,elasticsearch,kibana}/
#   PREFIX/share/doc/sluice/README.md, examples/ (conf/examples/*),
#     stunnel/ (conf/stunnel/*: README's tunnel to a remote Redis)
#   PREFIX/lib/systemd/system/sluice-{shipper,indexer}.service
#   SYSCONFDIR/sluice/{shipper,indexer}.json        (only when absent)
#   SYSCONFDIR/default/sluice-{shipper,indexer}     (only when absent; 0600)
#
# SYSCONFDIR is /etc whatever PREFIX is: /etc/sluice/*.json is where the
# daemons look without -c, and where a Debian admin looks. The units and the
# compiled-in paths name the configured prefix, so configure with the one
# you install to (the Makefile's `install` does): `cmake --install --prefix`
# with another moves the files but not the paths written in the units.
include(GNUInstallDirs)

set(SLUICE_SYSCONFDIR "/etc" CACHE PATH
    "where sluice/*.json and default/sluice-* are installed")
set(SLUICE_SYSTEMD_UNITDIR "" CACHE PATH
    "where the systemd units go; empty: PREFIX/lib/systemd/system")

set(SLUICE_CONFIG_DIR "${SLUICE_SYSCONFDIR}/sluice")
set(SLUICE_ENV_DIR "${SLUICE_SYSCONFDIR}/default")
set(SLUICE_BIN_DIR "${CMAKE_INSTALL_FULL_BINDIR}")
set(SLUICE_DOC_DIR "${CMAKE_INSTALL_FULL_DOCDIR}")
# lib/, not CMAKE_INSTALL_LIBDIR (lib/x86_64-linux-gnu under /usr): systemd
# reads /usr/lib/systemd/system and /usr/local/lib/systemd/system.
set(unit_dir "${SLUICE_SYSTEMD_UNITDIR}")
if(unit_dir STREQUAL "")
  set(unit_dir "lib/systemd/system")
endif()
if(IS_ABSOLUTE "${unit_dir}")
  set(SLUICE_UNIT_DIR "${unit_dir}")
else()
  set(SLUICE_UNIT_DIR "${CMAKE_INSTALL_PREFIX}/${unit_dir}")
endif()

foreach(daemon IN ITEMS shipper indexer)
  configure_file(${PROJECT_SOURCE_DIR}/conf/systemd/sluice-${daemon}.service.in
                 ${PROJECT_BINARY_DIR}/systemd/sluice-${daemon}.service @ONLY)
  configure_file(${PROJECT_SOURCE_DIR}/conf/systemd/sluice-${daemon}.env
                 ${PROJECT_BINARY_DIR}/systemd/sluice-${daemon} @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/systemd/sluice-${daemon}.service
          DESTINATION ${unit_dir})
endforeach()

# A file an admin edits is installed only when it is not there yet, as dpkg
# keeps a changed conffile: a second `make install` never overwrites it.
function(sluice_install_conffile src dir name mode)
  install(CODE "
    set(dst \"\$ENV{DESTDIR}${dir}/${name}\")
    if(EXISTS \"\${dst}\")
      message(STATUS \"Kept: \${dst} (exists; the new one is ${src})\")
    else()
      file(INSTALL DESTINATION \"${dir}\" TYPE FILE RENAME \"${name}\"
           PERMISSIONS ${mode} FILES \"${src}\")
    endif()")
endfunction()

sluice_install_conffile(${PROJECT_SOURCE_DIR}/conf/shipper.json
  ${SLUICE_CONFIG_DIR} shipper.json "OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ")
sluice_install_conffile(${PROJECT_SOURCE_DIR}/conf/indexer.json
  ${SLUICE_CONFIG_DIR} indexer.json "OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ")
foreach(daemon IN ITEMS shipper indexer)
  sluice_install_conffile(${PROJECT_BINARY_DIR}/systemd/sluice-${daemon}
    ${SLUICE_ENV_DIR} sluice-${daemon} "OWNER_READ OWNER_WRITE")
endforeach()

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# conf/examples/: whatever example configs are there, commented ones a user
# copies to /etc/sluice. Checked at configure time, which the Makefile runs
# before every build.
if(EXISTS ${PROJECT_SOURCE_DIR}/conf/examples)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/conf/examples/
          DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/conf/stunnel/
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/stunnel)
