// The docs' C++ blocks (tests/docs_check.py --generate: one translation unit per page) are
// compiled and linked into this program; building it is the check. It does not run them: the
// fragments read data files, train for minutes or throw on purpose.
int main() {}
