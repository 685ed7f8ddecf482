# pagedllm_library(NAME DEPS lib...) builds src/NAME as library pagedllm_NAME from every *.cc in the folder
# (sub-folders included) except *_test.cc, and one test binary NAME_tests from the *_test.cc files, registered
# with ctest. Files are globbed so that adding a source file needs no edit here.
function(pagedllm_library name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE all_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  set(lib_sources "")
  set(test_sources "")
  foreach(f ${all_sources})
    if(f MATCHES "_test\\.cc$")
      list(APPEND test_sources ${f})
    else()
      list(APPEND lib_sources ${f})
    endif()
  endforeach()
  if(lib_sources)
    add_library(pagedllm_${name} STATIC ${lib_sources})
    target_include_directories(pagedllm_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(pagedllm_${name} PUBLIC ${ARG_DEPS})
  else()
    # A layer with headers only (or not written yet) still links its dependencies through.
    add_library(pagedllm_${name} INTERFACE)
    target_include_directories(pagedllm_${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(pagedllm_${name} INTERFACE ${ARG_DEPS})
  endif()
  if(test_sources)
    add_executable(${name}_tests ${test_sources})
    target_link_libraries(${name}_tests PRIVATE pagedllm_${name} GTest::gtest GTest::gtest_main GTest::gmock)
    target_compile_definitions(${name}_tests PRIVATE
      PAGEDLLM_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared"
      PAGEDLLM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
    add_test(NAME ${name}_tests COMMAND ${name}_tests WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  endif()
endfunction()
