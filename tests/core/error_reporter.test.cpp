// error_reporter (detail/error_reporter.hpp): a node's error hook, replaced, emptied, or throwing.
#include <coactor/detail/error_reporter.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using namespace coactor;
using coactor::detail::error_reporter;

TEST_CASE("core error reporter: reports reach the hook now set, with their pid", "[core]") {
  error_reporter reporter("n");
  std::vector<std::string> first, second;
  reporter.set_hook([&](const error& e, const pid& who) { first.push_back(e.detail() + "/" + std::to_string(who.id())); });
  reporter.report(error(errc::dead_process, "a"), pid(1, 2, 3));
  reporter.set_hook([&](const error& e, const pid&) { second.push_back(e.detail()); });
  reporter.report(error(errc::exception, "b"), pid{});
  CHECK(first == std::vector<std::string>{"a/2"});
  CHECK(second == std::vector<std::string>{"b"});
}

TEST_CASE("core error reporter: an empty hook drops reports, a throwing one is ignored", "[core]") {
  error_reporter reporter("n");
  reporter.set_hook({});
  reporter.report(error(errc::dead_process, "dropped"), pid{});  // nothing to call, nothing printed
  int calls = 0;
  reporter.set_hook([&](const error&, const pid&) {
    ++calls;
    throw std::runtime_error("hook failed");
  });
  reporter.report(error(errc::dead_process, "one"), pid{});  // must not throw (report is noexcept)
  reporter.report(error(errc::dead_process, "two"), pid{});
  CHECK(calls == 2);
}
