# Build types: Debug, Release, Asan (ASan + UBSan), Fuzz (clang + libFuzzer).
set(CMAKE_C_FLAGS_DEBUG "-g -O0")
set(CMAKE_C_FLAGS_RELEASE "-O2 -DNDEBUG")
set(CMAKE_C_FLAGS_ASAN
    "-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer")
set(CMAKE_EXE_LINKER_FLAGS_ASAN "-fsanitize=address,undefined")
set(CMAKE_SHARED_LINKER_FLAGS_ASAN "-fsanitize=address,undefined")
set(CMAKE_C_FLAGS_FUZZ
    "-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer")
set(CMAKE_EXE_LINKER_FLAGS_FUZZ "-fsanitize=address,undefined")
set(SLUICE_FUZZ OFF)
if(CMAKE_BUILD_TYPE STREQUAL "Fuzz")
  set(SLUICE_FUZZ ON)
endif()
