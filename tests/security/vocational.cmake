# Issue 12 on the vocational service: Apply scoped to the applicant's county
# (point 3), the originator of grants (point 7), audited bulk reads (point
# 4) and school officers held to their school (point 5). Runs the real
# registry_server as a child process.
if(TARGET vocational_lib AND TARGET registry_server)
  add_executable(vocational_scope_test vocational_scope_test.cc)
  target_link_libraries(vocational_scope_test PRIVATE vocational_lib
    eduaid_testing eduaid_synthetic GTest::gtest_main)
  add_dependencies(vocational_scope_test registry_server)
  target_compile_definitions(vocational_scope_test PRIVATE
    REGISTRY_SERVER="$<TARGET_FILE:registry_server>")
  gtest_discover_tests(vocational_scope_test DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "security;vocational" TIMEOUT 300)
endif()
