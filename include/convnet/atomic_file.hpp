#pragma once
// Atomic output files (DESIGN.md §5): every file the project writes goes to a
// temporary name in the same directory, is fsynced, then renamed into place,
// so a failed or interrupted run leaves the old complete file or the new one,
// never a partial file.
#include <functional>
#include <string>
#include <string_view>

namespace convnet {

// Creates a unique temp file ".<name>.tmp.XXXXXX" next to `path`, calls
// write(tmp_path), fsyncs the temp file, renames it onto `path` and fsyncs the
// directory. The temp file gets the mode of the file it replaces (or 0666 less
// the umask for a new file). On any error the temp file is removed and
// convnet::Error is thrown, e.g. "out/model.npz: cannot write: No such file or
// directory". A convnet::Error thrown by `write` is passed on unchanged; other
// exceptions become "<path>: cannot write: <what()>".
void write_file_atomic(const std::string& path,
                       const std::function<void(const std::string& tmp_path)>& write);

// Same, with the whole contents given in memory.
// Test hook for the reliability work: when the environment variable
// CONVNET_TEST_ABORT_MIDWRITE is set, this writes half of `bytes` to the temp
// file and then calls std::abort().
void write_file_atomic(const std::string& path, std::string_view bytes);

}  // namespace convnet
