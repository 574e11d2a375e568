# Issue 12 points held by the common library: JWT rules, the school claim,
# idempotency records bound to the caller and sealed, bounded audit under a
# flood of bad tokens, Redis AUTH.
add_executable(security_common_test common_privacy_test.cc)
target_link_libraries(security_common_test PRIVATE eduaid_common eduaid_testing
  grpc_health_proto GTest::gtest_main)
gtest_discover_tests(security_common_test DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS security)
