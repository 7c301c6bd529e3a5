# Finds the installed Slurm headers (Debian: libslurm-dev) and its plugin directory.
# Defines Slurm::headers (headers only: SPANK plugins resolve slurm_* at load time from
# libslurmfull, which srun/sbatch/slurmd/slurmstepd already have loaded), Slurm_VERSION,
# Slurm_VERSION_NUMBER and Slurm_PLUGIN_DIR.
find_path(Slurm_INCLUDE_DIR slurm/spank.h)
if(Slurm_INCLUDE_DIR AND EXISTS "${Slurm_INCLUDE_DIR}/slurm/slurm_version.h")
  file(STRINGS "${Slurm_INCLUDE_DIR}/slurm/slurm_version.h" _np_ver
       REGEX "^#define SLURM_VERSION_NUMBER ")
  string(REGEX REPLACE ".*(0x[0-9a-fA-F]+).*" "\\1" Slurm_VERSION_NUMBER "${_np_ver}")
  math(EXPR _maj "(${Slurm_VERSION_NUMBER} >> 16) & 255")
  math(EXPR _min "(${Slurm_VERSION_NUMBER} >> 8) & 255")
  math(EXPR _mic "${Slurm_VERSION_NUMBER} & 255")
  set(Slurm_VERSION "${_maj}.${_min}.${_mic}")
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
mark_as_advanced(Slurm_INCLUDE_DIR Slurm_PLUGIN_DIR)
