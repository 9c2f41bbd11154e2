# Writes a C++ file holding every SQL migration as a string, in file-name order.
# Inputs: OUT (the .cc to write), FILES (the .sql files, sorted), FUNCTION (the C++ function that
# returns them, declared in store/migrations.h).
set(body "// Generated from src/store/migrations by cmake/embed_migrations.cmake.\n")
string(APPEND body "#include \"store/migrations.h\"\n\nnamespace pointsmall::store {\n\n")
string(APPEND body "const std::vector<Migration>& ${FUNCTION}() {\n  static const std::vector<Migration> all = {\n")
foreach(file ${FILES})
  get_filename_component(name ${file} NAME_WE)
  string(REGEX MATCH "^[0-9]+" version ${name})
  math(EXPR version "${version}")  # no leading zeros: C++ would read them as octal
  file(READ ${file} sql)
  string(APPEND body "      {${version}, \"${name}\", R\"pointsmall_sql(${sql})pointsmall_sql\"},\n")
endforeach()
string(APPEND body "  };\n  return all;\n}\n\n}  // namespace pointsmall::store\n")
file(WRITE ${OUT} "${body}")
