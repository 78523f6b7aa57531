# switchboard_add_plugin(<name> SOURCES <src>... [LIBRARIES <lib>...] [INSTALL_DESTINATION <dir>] [NO_INSTALL])
#
# Builds the Switchboard plugin <name> as a shared object `switchboard-<name>.so`:
#   - linked against Switchboard::sdk (and LIBRARIES), with no undefined symbols left;
#   - hidden visibility, and a linker version script so that the only exported symbol is the
#     plugin's descriptor (switchboard_plugin);
#   - placed in `<build>/plugins/`, so `plugins: { paths: [ build/plugins ] }` finds it;
#   - installed to INSTALL_DESTINATION, by default the plugin directory of the Switchboard found
#     by find_package (Switchboard_PLUGIN_DIR, which that switchboard always searches), or
#     `${CMAKE_INSTALL_LIBDIR}/switchboard/plugins` under the install prefix in Switchboard's own build.
# The target is named `switchboard_plugin_<name>`.
include(GNUInstallDirs)

function(switchboard_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "INSTALL_DESTINATION" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT name MATCHES "^[a-z0-9_-]+$")
    message(FATAL_ERROR "switchboard_add_plugin: plugin name '${name}' may use only a-z, 0-9, '-' and '_'")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "switchboard_add_plugin(${name}): SOURCES is required")
  endif()
  set(target switchboard_plugin_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE Switchboard::sdk ${ARG_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "switchboard-${name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON
    LIBRARY_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/plugins")
  # Export nothing but the descriptor: Boost marks some of its types visible in its headers, and
  # hidden visibility alone would leave them in the dynamic symbol table.
  set(map_file "${CMAKE_CURRENT_BINARY_DIR}/switchboard-plugin.map")
  # Rewritten only when its content changes (no relink otherwise).
  file(CONFIGURE OUTPUT "${map_file}" CONTENT "{ global: switchboard_plugin; local: *; };\n")
  target_link_options(${target} PRIVATE "-Wl,--no-undefined" "-Wl,--version-script=${map_file}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${map_file}")
  if(TARGET switchboard_all_plugins)
    add_dependencies(switchboard_all_plugins ${target})
  endif()
  if(NOT ARG_NO_INSTALL)
    if(NOT ARG_INSTALL_DESTINATION)
      if(Switchboard_PLUGIN_DIR)
        set(ARG_INSTALL_DESTINATION "${Switchboard_PLUGIN_DIR}")
      else()
        set(ARG_INSTALL_DESTINATION "${CMAKE_INSTALL_LIBDIR}/switchboard/plugins")
      endif()
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION "${ARG_INSTALL_DESTINATION}")
  endif()
endfunction()
