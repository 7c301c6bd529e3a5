# Finds the installed Slurm headers (Debian: libslurm-dev) and its plugin directory.
# Defines Slurm::headers (headers only: SPANK plugins resolve slurm_* at load time from
# libslurmfull, which srun/sbatch/slurmd/slurmstepd already have loaded), Slurm_VERSION,
# Slurm_VERSION_NUMBER, Slurm_VERSION_STRING (22.05.8), Slurm_API_VERSION and Slurm_PLUGIN_DIR.
find_path(Slurm_INCLUDE_DIR slurm/spank.h)
if(Slurm_INCLUDE_DIR AND EXISTS "${Slurm_INCLUDE_DIR}/slurm/slurm_version.h")
  file(STRINGS "${Slurm_INCLUDE_DIR}/slurm/slurm_version.h" _np_ver
       REGEX "^#define SLURM_VERSION_NUMBER ")
  string(REGEX REPLACE ".*(0x[0-9a-fA-F]+).*" "\\1" Slurm_VERSION_NUMBER "${_np_ver}")
  math(EXPR _maj "(${Slurm_VERSION_NUMBER} >> 16) & 255")
  math(EXPR _min "(${Slurm_VERSION_NUMBER} >> 8) & 255")
  math(EXPR _mic "${Slurm_VERSION_NUMBER} & 255")
  set(Slurm_VERSION "${_maj}.${_min}.${_mic}")
  # Slurm's own spelling (22.05.8), what Debian's package versions start with.
  if(_min LESS 10)
    set(_min "0${_min}")
  endif()
  set(Slurm_VERSION_STRING "${_maj}.${_min}.${_mic}")
endif()
# libslurm's API number (slurm_api_version(): current << 16 | revision << 8 | age), which changes
# with every release series; the plugins compare it with the running Slurm's (abi.hpp).
find_library(Slurm_LIBRARY slurm)
if(Slurm_INCLUDE_DIR AND Slurm_LIBRARY AND NOT DEFINED Slurm_API_VERSION)
  set(_np_src "${CMAKE_BINARY_DIR}/CMakeFiles/netplace_slurm_api.c")
  file(WRITE "${_np_src}" "#include <stdio.h>\n#include <slurm/slurm.h>\nint main(void) { printf(\"%ld\", slurm_api_version()); return 0; }\n")
  try_run(_np_run _np_compile "${CMAKE_BINARY_DIR}/CMakeFiles/netplace_slurm_api" "${_np_src}"
          CMAKE_FLAGS "-DINCLUDE_DIRECTORIES=${Slurm_INCLUDE_DIR}"
          LINK_LIBRARIES "${Slurm_LIBRARY}"
          RUN_OUTPUT_VARIABLE _np_api)
  if(_np_compile AND _np_run EQUAL 0 AND _np_api MATCHES "^[0-9]+$")
    set(Slurm_API_VERSION "${_np_api}" CACHE INTERNAL "libslurm API number of the build host")
  else()
    set(Slurm_API_VERSION 0 CACHE INTERNAL "")
    message(WARNING "netplace: could not read libslurm's API version; the Slurm series check is off")
  endif()
endif()
find_path(Slurm_PLUGIN_DIR NAMES spank.so select_cons_tres.so
          PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/slurm-wlm /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/slurm
                /usr/lib64/slurm /usr/lib/slurm NO_DEFAULT_PATH)
if(NOT Slurm_PLUGIN_DIR)
  set(Slurm_PLUGIN_DIR "${CMAKE_INSTALL_FULL_LIBDIR}/slurm-wlm")
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Slurm REQUIRED_VARS Slurm_INCLUDE_DIR VERSION_VAR Slurm_VERSION)
if(Slurm_FOUND AND NOT TARGET Slurm::headers)
  add_library(Slurm::headers INTERFACE IMPORTED)
  set_target_properties(Slurm::headers PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${Slurm_INCLUDE_DIR}")
endif()
mark_as_advanced(Slurm_INCLUDE_DIR Slurm_PLUGIN_DIR Slurm_LIBRARY)
