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
  target_link_options(${target} PRIVATE "-Wl,--no-undefined")
  if(TARGET switchboard_all_plugins)
    add_dependencies(switchboard_all_plugins ${target})
  endif()
endfunction()
