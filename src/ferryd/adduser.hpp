#pragma once

// `ferryd adduser FILE NAME [--root DIR] [--read-only]`: adds a user to a users file, or
// changes one (users_file.hpp has the format).

namespace ferryd {

// argv[0] is "adduser". The exit status: 0, 1 on a failure, 2 on a usage error.
int adduser_main(int argc, char** argv);

}  // namespace ferryd
