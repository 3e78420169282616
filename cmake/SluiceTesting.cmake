# One function per kind of test, so adding a test is one line.
#
# sluice_unit_test(NAME src... LIBS lib...): a cmocka executable, label "unit".
# sluice_fuzz_target(NAME src LIBS lib...): in Fuzz builds a libFuzzer binary;
#   otherwise the target linked with tests/fuzz/replay_main.c, registered with
#   label "fuzz" to replay tests/fuzz/corpus/NAME/ on every `make test`.
function(sluice_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit)
endfunction()

function(sluice_fuzz_target name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  if(SLUICE_FUZZ)
    add_executable(${name} ${T_SOURCES})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE ${T_LIBS})
  else()
    add_executable(${name} ${T_SOURCES} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.c)
    target_link_libraries(${name} PRIVATE ${T_LIBS})
    add_test(NAME ${name}
             COMMAND ${name} ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
    set_tests_properties(${name} PROPERTIES LABELS fuzz)
  endif()
endfunction()
