# switchboard_add_plugin(NAME SOURCES src... [LIBRARIES libs...])
# Builds a plugin shared object named `switchboard-<NAME>.so` with hidden visibility, linked
# against the SDK only, placed in the build's `plugins/` folder so the host finds it there.
function(switchboard_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  set(target switchboard_plugin_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE Switchboard::sdk ${ARG_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "switchboard-${name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/plugins")
  # Export nothing but the descriptor: Boost marks some of its types visible in its headers, and
  # hidden visibility alone would leave them in the dynamic symbol table.
  set(map_file "${CMAKE_CURRENT_BINARY_DIR}/switchboard-plugin.map")
  if(NOT EXISTS "${map_file}")
    file(WRITE "${map_file}" "{ global: switchboard_plugin_v1; local: *; };\n")
  endif()
  target_link_options(${target} PRIVATE "-Wl,--no-undefined" "-Wl,--version-script=${map_file}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${map_file}")
  if(TARGET switchboard_all_plugins)
    add_dependencies(switchboard_all_plugins ${target})
  endif()
endfunction()
