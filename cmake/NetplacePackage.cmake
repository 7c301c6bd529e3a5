# Man pages and the Debian package (CPack DEB).
#
# The package can be built from any configured tree, the dev tree included (CI does that, no
# extra compile): `cpack --config build/dev/CPackConfig.cmake -G DEB -B <dir>`. CPack installs
# with DESTDIR into a staging directory under the /usr prefix, so relative destinations land in
# /usr whatever the tree's own CMAKE_INSTALL_PREFIX, and binaries are stripped.

# --- man pages: help2man from the programs' own --help, plus the sections in tools/man/*.h2m -----
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(_np_man_dir ${CMAKE_BINARY_DIR}/man)
  foreach(_np_prog netplace:1 netplace-probed:8)
    string(REPLACE ":" ";" _np_parts ${_np_prog})
    list(GET _np_parts 0 _np_name)
    list(GET _np_parts 1 _np_sect)
    if(NOT TARGET ${_np_name})
      continue()
    endif()
    set(_np_h2m ${PROJECT_SOURCE_DIR}/tools/man/${_np_name}.h2m)
    add_custom_command(OUTPUT ${_np_man_dir}/${_np_name}.${_np_sect}.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${_np_man_dir}
      COMMAND ${HELP2MAN} --no-info --section=${_np_sect} --include=${_np_h2m}
              --output=${_np_man_dir}/${_np_name}.${_np_sect} $<TARGET_FILE:${_np_name}>
      # -n: no timestamp in the gzip header, so rebuilding gives the same bytes.
      COMMAND gzip -9nf ${_np_man_dir}/${_np_name}.${_np_sect}
      DEPENDS ${_np_name} ${_np_h2m}
      COMMENT "help2man: ${_np_name}(${_np_sect})" VERBATIM)
    add_custom_target(man_${_np_name} ALL DEPENDS ${_np_man_dir}/${_np_name}.${_np_sect}.gz)
    install(FILES ${_np_man_dir}/${_np_name}.${_np_sect}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${_np_sect})
  endforeach()
else()
  message(WARNING "netplace: help2man not found (Debian: help2man): no man pages")
endif()

# --- Debian package ------------------------------------------------------------------------------
set(CPACK_PACKAGE_NAME netplace)
set(CPACK_PACKAGE_VENDOR "netplace")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "netplace maintainers")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "slurm-client, hwloc-nox")
set(CPACK_STRIP_FILES ON)
# Absolute destinations (/etc, Slurm's plugin directory) go under DESTDIR, i.e. into the staging
# tree and never onto the build host; relative ones under /usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

# The SPANK plugin's plugin_version is the Slurm it was compiled against (slurm_version.h): pin
# that upstream version, any Debian revision (security updates keep the version). Slurm itself
# refuses a plugin from another release series and would fail every srun/sbatch with a `required`
# plugin; apt now refuses the Slurm upgrade, or removes netplace, instead.
if(NETPLACE_BUILD_SLURM)
  find_package(Slurm QUIET)  # plugins/slurm found it in its own directory scope; cached
endif()
if(Slurm_VERSION_STRING)
  set(NETPLACE_SLURM_PACKAGE slurm-wlm-basic-plugins CACHE STRING
      "Debian package holding libslurmfull, which loads the SPANK plugin")
  string(REGEX REPLACE "^([0-9]+\\.[0-9]+)\\.([0-9]+)$" "\\1" _np_series "${Slurm_VERSION_STRING}")
  string(REGEX REPLACE "^([0-9]+\\.[0-9]+)\\.([0-9]+)$" "\\2" _np_micro "${Slurm_VERSION_STRING}")
  math(EXPR _np_next "${_np_micro} + 1")
  set(NETPLACE_SLURM_DEPENDS
      "${NETPLACE_SLURM_PACKAGE} (>= ${Slurm_VERSION_STRING}), ${NETPLACE_SLURM_PACKAGE} (<< ${_np_series}.${_np_next}~)")
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "${NETPLACE_SLURM_DEPENDS}")
  # The headers are what the plugin is built against; say so when the build host's Slurm package
  # is another version (headers from elsewhere), because the pin follows the headers.
  find_program(DPKG_QUERY dpkg-query)
  if(DPKG_QUERY)
    execute_process(COMMAND ${DPKG_QUERY} -W "-f=\${Version}" ${NETPLACE_SLURM_PACKAGE}
                    OUTPUT_VARIABLE _np_pkgver ERROR_QUIET RESULT_VARIABLE _np_rc)
    if(_np_rc EQUAL 0 AND NOT _np_pkgver MATCHES "^([0-9]+:)?${Slurm_VERSION_STRING}([-~+].*)?$")
      message(WARNING "netplace: Slurm headers are ${Slurm_VERSION_STRING} but ${NETPLACE_SLURM_PACKAGE} is ${_np_pkgver}")
    endif()
  endif()
endif()

# conffiles: every file installed under /etc (netplace_install_conffile).
get_property(_np_conffiles GLOBAL PROPERTY NETPLACE_CONFFILES)
list(JOIN _np_conffiles "\n" _np_conffiles_text)
file(WRITE ${CMAKE_BINARY_DIR}/debian/conffiles "${_np_conffiles_text}\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
