# Ledger tests of the privacy and authorization review (issue 12): the
# ledger in-process over real gRPC, with a real redis-server, SQLite files
# and PostgreSQL, and the registry_server child of ledger_test_env.
if(TARGET ledger_lib AND TARGET registry_server)
  add_executable(ledger_security_test
    ${CMAKE_CURRENT_SOURCE_DIR}/ledger_security_test.cc
    ${CMAKE_SOURCE_DIR}/services/ledger/tests/ledger_test_env.cc)
  target_link_libraries(ledger_security_test PRIVATE ledger_lib
    eduaid_testing PkgConfig::SQLITE3 PkgConfig::HIREDIS GTest::gtest_main
    GTest::gmock)
  target_compile_definitions(ledger_security_test PRIVATE
    LEDGER_POLICY_FILE="${CMAKE_SOURCE_DIR}/policy/henan-2018.textproto"
    REGISTRY_SERVER="$<TARGET_FILE:registry_server>")
  add_dependencies(ledger_security_test registry_server)
  gtest_discover_tests(ledger_security_test DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "ledger;security" TIMEOUT 600)
endif()
