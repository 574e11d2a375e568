# Issue 12 on the teacher service: masked ID numbers (point 1), audited bulk
# reads (point 4) and school officers held to their school (point 5).
if(TARGET teacher_lib)
  add_executable(teacher_privacy_test teacher_privacy_test.cc)
  target_link_libraries(teacher_privacy_test PRIVATE teacher_lib
    eduaid_testing eduaid_synthetic GTest::gtest_main)
  gtest_discover_tests(teacher_privacy_test DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "security;teacher")
endif()
