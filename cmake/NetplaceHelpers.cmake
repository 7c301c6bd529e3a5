# Shared build helpers: every netplace target gets the same warnings and C++ level.
function(netplace_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor>
    $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wpedantic>
    $<$<BOOL:${NETPLACE_WERROR}>:-Werror>)
endfunction()

# netplace_library(<name> ALIAS netplace::<x> SOURCES ... PUBLIC_DEPS ... PRIVATE_DEPS ...)
function(netplace_library name)
  cmake_parse_arguments(A "" "ALIAS" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS;INCLUDE_DIRS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  add_library(${A_ALIAS} ALIAS ${name})
  netplace_target_defaults(${name})
  target_link_libraries(${name} PUBLIC ${A_PUBLIC_DEPS} PRIVATE ${A_PRIVATE_DEPS})
  if(A_INCLUDE_DIRS)
    target_include_directories(${name} PUBLIC ${A_INCLUDE_DIRS})
  endif()
endfunction()

# Configuration files under /etc. netplace and Slurm read them there (/etc/netplace,
# /etc/slurm/plugstack.conf.d) whatever the install prefix, so the destination is absolute; stage
# with DESTDIR= for a non-root install. Each one is a conffile of the Debian package: an upgrade
# keeps the admin's edits (dpkg asks) instead of overwriting them.
set(NETPLACE_SYSCONFDIR "/etc" CACHE PATH "Where netplace's configuration files are installed")
function(netplace_install_conffile file subdir)
  install(FILES ${file} DESTINATION ${NETPLACE_SYSCONFDIR}/${subdir})
  get_filename_component(_name ${file} NAME)
  set_property(GLOBAL APPEND PROPERTY NETPLACE_CONFFILES ${NETPLACE_SYSCONFDIR}/${subdir}/${_name})
endfunction()
