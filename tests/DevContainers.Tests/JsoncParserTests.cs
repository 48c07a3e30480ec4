using CloudDevEnv.DevContainers.Jsonc;
using Xunit;

namespace CloudDevEnv.DevContainers.Tests;

public sealed class JsoncParserTests
{
    [Fact]
    public void Accepts_comments_and_trailing_commas()
    {
        var node = JsoncParser.Parse("""
            // leading comment
            {
              /* block
                 comment */ "image": "debian", // trailing
              "url": "http://example.com/*not a comment*/", 
              "list": [1, 2, 3,],
            }
            """);
        var obj = Assert.IsType<JsoncObject>(node);
        Assert.Equal("debian", Assert.IsType<JsoncString>(obj["image"]).Value);
        Assert.Equal("http://example.com/*not a comment*/", Assert.IsType<JsoncString>(obj["url"]).Value);
        Assert.Equal(3, Assert.IsType<JsoncArray>(obj["list"]).Items.Count);
    }

    [Fact]
    public void Records_positions_of_values()
    {
        var obj = (JsoncObject)JsoncParser.Parse("{\n  \"a\": 1,\n\t\"b\": [true, null]\n}");
        Assert.Equal(new JsoncPosition(2, 8), obj["a"]!.Position);
        var b = (JsoncArray)obj["b"]!;
        Assert.Equal(new JsoncPosition(3, 7), b.Position);
        Assert.Equal(new JsoncPosition(3, 14), b.Items[1].Position);
    }

    [Fact]
    public void Decodes_escapes_and_keeps_the_last_duplicate()
    {
        var obj = (JsoncObject)JsoncParser.Parse("""{"s": "a\"b\\c\/\n\u00e9", "d": 1, "d": 2}""");
        Assert.Equal("a\"b\\c/\né", ((JsoncString)obj["s"]!).Value);
        Assert.Equal("2", ((JsoncNumber)obj["d"]!).Text);
        Assert.Equal(2, obj.Properties.Count);
    }

    [Theory]
    [InlineData("{\n  \"image\": \"debian\"\n  \"name\": \"x\"\n}", 3, 3, "expected ',' or '}' after the value of \"image\"")]
    [InlineData("{\n  \"image\": \"debian\",\n  name: \"x\"\n}", 3, 3, "property names must be in double quotes")]
    [InlineData("{\"image\" \"debian\"}", 1, 10, "expected ':' after the property name \"image\"")]
    [InlineData("{\n  \"image\": 'debian'\n}", 2, 12, "strings must be in double quotes")]
    [InlineData("{\n  \"image\": \"debian\n}", 2, 12, "unterminated string")]
    [InlineData("{\n  /* open\n", 2, 3, "unterminated comment")]
    [InlineData("{\"a\": [1, 2", 1, 12, "the array opened at line 1, column 7 is not closed")]
    [InlineData("{\"a\": 1", 1, 8, "the object opened at line 1, column 1 is not closed")]
    [InlineData("{\"a\": [1,,2]}", 1, 10, "expected a value but found ','")]
    [InlineData("{\"a\": 01}", 1, 7, "leading zeros")]
    [InlineData("{\"a\": \"\\q\"}", 1, 8, "invalid escape sequence '\\q'")]
    [InlineData("{\"a\": tru}", 1, 7, "unexpected word 'tru'")]
    [InlineData("{\"a\": \"x\ty\"}", 1, 9, "a tab character is not allowed inside a string")]
    [InlineData("{} {}", 1, 4, "after the end of the top-level value")]
    [InlineData("  \n // only a comment\n", 3, 1, "the file is empty")]
    [InlineData("{\r\n\"a\": 1\r\n\"b\": 2}", 3, 1, "expected ',' or '}'")]
    public void Reports_syntax_errors_with_line_and_column(string text, int line, int column, string reason)
    {
        var error = Assert.Throws<JsoncSyntaxException>(() => JsoncParser.Parse(text));
        Assert.Contains(reason, error.Reason);
        Assert.Equal(new JsoncPosition(line, column), error.Position);
    }

    [Fact]
    public void Columns_count_utf16_units_after_non_ascii_text()
    {
        var error = Assert.Throws<JsoncSyntaxException>(() => JsoncParser.Parse("{\"é\": \"ü\" \"x\": 1}"));
        Assert.Equal(new JsoncPosition(1, 11), error.Position);
    }

    [Fact]
    public void Rejects_deep_nesting_without_overflowing_the_stack()
    {
        var text = "{\"a\":" + new string('[', 10_000) + new string(']', 10_000) + "}";
        var error = Assert.Throws<JsoncSyntaxException>(() => JsoncParser.Parse(text));
        Assert.Contains("nested more than", error.Reason);
    }
}
