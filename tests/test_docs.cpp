// The READMEs link only to files that ship with the repository: a link to
// ../shared or to an absolute path works on the author's machine only.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "file_util.hpp"

namespace fs = std::filesystem;

namespace {

// Every link target in a Markdown text: [text](target "title"), [id]: target,
// and HTML href="..." / src="...".
std::vector<std::string> link_targets(const std::string& md) {
  std::vector<std::string> out;
  const std::regex inline_link(R"(\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\))");
  const std::regex ref_link(R"((?:^|\n)\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$))");
  const std::regex html_link(R"((?:href|src)\s*=\s*["']([^"']+)["'])");
  for (const auto* re : {&inline_link, &ref_link, &html_link})
    for (auto it = std::sregex_iterator(md.begin(), md.end(), *re); it != std::sregex_iterator(); ++it)
      out.push_back((*it)[1].str());
  return out;
}

bool is_external(const std::string& t) {
  return t.rfind("http://", 0) == 0 || t.rfind("https://", 0) == 0 || t.rfind("mailto:", 0) == 0;
}

// "" when the target is fine, else why not.
std::string check_target(const fs::path& root, const fs::path& doc_dir, std::string t) {
  if (is_external(t) || t.rfind('#', 0) == 0) return "";
  if (t.find("://") != std::string::npos) return "not a web link nor a repository path";
  if (const auto h = t.find('#'); h != std::string::npos) t.resize(h);
  if (t.empty() || t[0] == '/') return "an absolute path, outside the repository for any other reader";
  std::error_code ec;
  const fs::path target = fs::weakly_canonical(doc_dir / t, ec);
  if (ec || !fs::exists(target)) return "no such file in the repository";
  const fs::path rel = target.lexically_relative(fs::weakly_canonical(root));
  if (rel.empty() || *rel.begin() == "..") return "points outside the repository";
  return "";
}

}  // namespace

TEST(Docs, LinkTargetsAreFound) {
  const auto t = link_targets("a [x](docs/A.md) b [y](<b.md> \"t\")\n[id]: ../up.md\n<img src=\"p.png\">");
  EXPECT_EQ(t, (std::vector<std::string>{"docs/A.md", "b.md", "../up.md", "p.png"}));
}

TEST(Docs, CheckTargetRefusesPathsOutsideTheRepository) {
  const fs::path root = CONVNET_SOURCE_DIR;
  EXPECT_EQ(check_target(root, root, "README.md"), "");
  EXPECT_EQ(check_target(root, root, "docs/NUMPY.md#seeds"), "");
  EXPECT_EQ(check_target(root, root, "https://example.org/"), "");
  EXPECT_NE(check_target(root, root, "../shared/DESIGN.md"), "");
  EXPECT_NE(check_target(root, root, "/work/shared/DESIGN.md"), "");
  EXPECT_NE(check_target(root, root, "docs/NO-SUCH.md"), "");
}

TEST(Docs, ReadmeLinksResolveInsideTheRepository) {
  const fs::path root = CONVNET_SOURCE_DIR;
  for (const char* name : {"README.md", "README.ja.md"}) {
    const std::string md = convnet::test::read_file((root / name).string());
    ASSERT_FALSE(md.empty()) << name;
    const auto targets = link_targets(md);
    EXPECT_FALSE(targets.empty()) << name;
    for (const auto& t : targets) {
      const std::string why = check_target(root, root, t);
      EXPECT_EQ(why, "") << name << ": link to " << t;
    }
  }
}
