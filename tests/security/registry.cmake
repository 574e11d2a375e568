# Issue 12, registry side (tests/security/registry_privacy_test.cc): the
# in-process registry on SQLite and PostgreSQL with a real redis-server.
if(TARGET registry_lib)
  add_executable(registry_privacy_test registry_privacy_test.cc)
  target_link_libraries(registry_privacy_test PRIVATE registry_lib
    eduaid_testing eduaid_synthetic GTest::gtest_main GTest::gmock)
  gtest_discover_tests(registry_privacy_test DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "security;registry")
endif()
