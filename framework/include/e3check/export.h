/* e3check — the export macro. The libraries are built with hidden visibility and a linker
 * version script (cmake/e3check.map), so only declarations marked E3C_API in these public
 * headers, all named e3c_*, are visible to programs and plugins. */
#ifndef E3CHECK_EXPORT_H
#define E3CHECK_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define E3C_API __attribute__((visibility("default")))
#else
#define E3C_API
#endif

#endif
