include(GoogleTest)

# Registers every GoogleTest test of `target` as its own ctest entry, named TARGET.Suite.Test (so `ctest -R
# TARGET` still selects the binary's tests). gtest_discover_tests gives each entry SKIP_REGULAR_EXPRESSION
# "[  SKIPPED ]": a GTEST_SKIP (a kernel path this CPU lacks, a missing optional tool) is counted under "did not
# run" in ctest's summary instead of passing. One whole-binary entry could not do that: the skip expression would
# mark the entire binary skipped, hiding its failures too. The tests of one binary were written to run one after
# another (shared temporary folders, suite fixtures), so a RESOURCE_LOCK per binary keeps them serial under
# `ctest -j`; different binaries still run in parallel. Discovery runs the binary with --gtest_list_tests when
# ctest starts, so building never executes a test binary.
#
# Exception: a fixture suite whose file has a SetUpTestSuite (an expensive setup shared by its tests, e.g. a training
# run) is one entry, TARGET.Suite, so the setup runs once rather than once per test. A GTEST_SKIP inside such a suite
# fails that entry (FAIL_REGULAR_EXPRESSION) instead of hiding: move a test that may skip out of the shared fixture.
function(pagedllm_register_gtests target)
  get_target_property(sources ${target} SOURCES)
  set(shared_suites "")
  foreach(source ${sources})
    file(READ ${source} text)
    if(text MATCHES "SetUpTestSuite")
      string(REGEX MATCHALL "TEST_F\\([A-Za-z0-9_]+," uses "${text}")
      foreach(use ${uses})
        string(REGEX REPLACE "TEST_F\\(([A-Za-z0-9_]+)," "\\1" suite "${use}")
        list(APPEND shared_suites ${suite})
      endforeach()
    endif()
  endforeach()
  list(REMOVE_DUPLICATES shared_suites)
  set(excluded "")
  foreach(suite ${shared_suites})
    add_test(NAME ${target}.${suite} COMMAND ${target} --gtest_filter=${suite}.* WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(${target}.${suite} PROPERTIES RESOURCE_LOCK ${target}
                         FAIL_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
    list(APPEND excluded "${suite}.*")
  endforeach()
  set(filter "")
  if(excluded)
    list(JOIN excluded ":" excluded)
    set(filter TEST_FILTER "-${excluded}")
  endif()
  gtest_discover_tests(${target}
    TEST_PREFIX "${target}."
    ${filter}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES RESOURCE_LOCK ${target})
endfunction()

# pagedllm_library(NAME DEPS lib...) builds src/NAME as library pagedllm_NAME from every *.cc in the folder
# (sub-folders included) except *_test.cc, and one test binary NAME_tests from the *_test.cc files, each of its
# tests registered with ctest (pagedllm_register_gtests). Files are globbed so that adding a source file needs no
# edit here.
#
# Layering is enforced by what each library can include: its include directory is a view holding only its own
# folder and those of the pagedllm libraries it depends on (directly or not), so `#include "engine/..."` from
# kernels/ fails to compile instead of quietly running up the layers.
function(pagedllm_include_view name folder)
  set(view ${PROJECT_BINARY_DIR}/include_views/${name})
  set(visible ${name})
  foreach(dep ${ARGN})
    if(dep MATCHES "^pagedllm_(.+)$")
      # A library may only depend on libraries added before it (the layers, bottom-up): this also refuses cycles.
      if(NOT TARGET ${dep})
        message(FATAL_ERROR "pagedllm_${name} depends on ${dep}, which is not defined above it")
      endif()
      get_property(dep_visible GLOBAL PROPERTY PAGEDLLM_VISIBLE_${CMAKE_MATCH_1})
      list(APPEND visible ${dep_visible})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES visible)
  set_property(GLOBAL PROPERTY PAGEDLLM_VISIBLE_${name} ${visible})
  file(REMOVE_RECURSE ${view})
  file(MAKE_DIRECTORY ${view})
  foreach(lib ${visible})
    get_property(lib_folder GLOBAL PROPERTY PAGEDLLM_FOLDER_${lib})
    if(lib STREQUAL name)
      set(lib_folder ${folder})
    endif()
    file(CREATE_LINK ${lib_folder} ${view}/${lib} SYMBOLIC)
  endforeach()
  set_property(GLOBAL PROPERTY PAGEDLLM_FOLDER_${name} ${folder})
  set(PAGEDLLM_INCLUDE_VIEW ${view} PARENT_SCOPE)
endfunction()

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
  pagedllm_include_view(${name} ${CMAKE_CURRENT_SOURCE_DIR} ${ARG_DEPS})
  if(lib_sources)
    add_library(pagedllm_${name} STATIC ${lib_sources})
    target_include_directories(pagedllm_${name} PUBLIC ${PAGEDLLM_INCLUDE_VIEW})
    target_link_libraries(pagedllm_${name} PUBLIC ${ARG_DEPS})
  else()
    # A layer with headers only (or not written yet) still links its dependencies through.
    add_library(pagedllm_${name} INTERFACE)
    target_include_directories(pagedllm_${name} INTERFACE ${PAGEDLLM_INCLUDE_VIEW})
    target_link_libraries(pagedllm_${name} INTERFACE ${ARG_DEPS})
  endif()
  if(test_sources AND PAGEDLLM_BUILD_TESTS)
    add_executable(${name}_tests ${test_sources})
    target_link_libraries(${name}_tests PRIVATE pagedllm_${name} GTest::gtest GTest::gtest_main GTest::gmock)
    target_compile_definitions(${name}_tests PRIVATE PAGEDLLM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
    pagedllm_register_gtests(${name}_tests)
  endif()
endfunction()
