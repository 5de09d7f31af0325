# Turns the schema/NNN-*.sql migrations into a C array (schema_sql.c), so the
# binaries carry their migrations. Run as: cmake -DOUT=file -DDIR=schema -P embed.cmake
# (-DNAME=array for another backend's directory, e.g. imgedit_pg_migrations).
if(NOT NAME)
  set(NAME imgedit_migrations)
endif()
file(GLOB migrations "${DIR}/[0-9][0-9][0-9]-*.sql")
list(SORT migrations)
set(body "/* ${NAME}: generated from NNN-name.sql by schema/embed.cmake: do not edit */\n#include <stddef.h>\nconst char *const ${NAME}[] = {\n")
foreach(f ${migrations})
  file(READ "${f}" sql)
  string(REPLACE "\\" "\\\\" sql "${sql}")
  string(REPLACE "\"" "\\\"" sql "${sql}")
  string(REPLACE "\n" "\\n\"\n\"" sql "${sql}")
  string(APPEND body "\"${sql}\",\n")
endforeach()
string(APPEND body "NULL\n};\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
