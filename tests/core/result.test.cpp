// result<void> (result.hpp), what every encode and decode returns: a success holds no error at all, a
// failure holds the whole error, and the accessors behave as documented either way.
#include <coactor/result.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <utility>

using namespace coactor;

TEST_CASE("result<void>: success", "[codec][result]") {
  const result<void> ok;
  CHECK(ok.has_value());
  CHECK(static_cast<bool>(ok));
  CHECK_NOTHROW(ok.value());
  CHECK_THROWS_AS(ok.error(), bad_access);
  const result<void> braced = {};
  CHECK(braced.has_value());
}

TEST_CASE("result<void>: failure, from an errc or an error", "[codec][result]") {
  const result<void> a(errc::bad_message, "what went wrong");
  CHECK(!a.has_value());
  CHECK(!a);
  CHECK(a.error() == errc::bad_message);
  CHECK(a.error().detail() == "what went wrong");
  CHECK_THROWS_WITH(a.value(), "coactor::result::value() on an error: bad message: what went wrong");

  const result<void> b = error(errc::too_large);
  CHECK(!b);
  CHECK(b.error() == errc::too_large);
  CHECK(b.error().detail().empty());

  const result<void> c = error(std::make_error_code(std::errc::connection_refused), "peer");
  CHECK(!c);
  CHECK(c.error().code() == std::errc::connection_refused);
}

TEST_CASE("result<void>: copies and moves carry the error, or its absence", "[codec][result]") {
  result<void> failed(errc::timeout, "no reply");
  result<void> copy = failed;
  CHECK(!copy);
  CHECK(copy.error().detail() == "no reply");
  CHECK(!failed);

  result<void> moved = std::move(copy);
  CHECK(!moved);
  CHECK(moved.error() == errc::timeout);

  result<void> ok;
  moved = ok;
  CHECK(moved);
  ok = failed;
  CHECK(!ok);
  CHECK(ok.error().detail() == "no reply");
}
