using System.Text.RegularExpressions;

namespace CloudDevEnv.LocalStorage.Tests;

public sealed partial class SafeFileNameTests
{
    [GeneratedRegex("^[a-z0-9_~-]+$")]
    private static partial Regex Portable();

    [Theory]
    [InlineData("workspace/abc-123", "workspace_2fabc-123")]
    [InlineData("Owner", "_4fwner")]
    [InlineData("a_b.c", "a_5fb_2ec")]
    [InlineData("é", "_c3_a9")]
    public void Escapes_everything_but_lower_case_letters_digits_and_dashes(string value, string expected) =>
        Assert.Equal(expected, SafeFileName.Encode(value));

    [Fact]
    public void Inputs_that_differ_only_in_case_or_escaping_get_different_names()
    {
        string[] values = ["a/b", "A/b", "a_2fb", "a%2fb", "a.b", "a..b", "a/b/", "", " ", "a/" + new string('x', 300), "a/" + new string('x', 301)];

        var names = values.Select(SafeFileName.Encode).ToList();

        Assert.Equal(values.Length, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(names.Where(name => name.Length > 0), name => Assert.Matches(Portable(), name));
    }

    [Fact]
    public void Long_names_are_bounded_and_keep_a_readable_prefix()
    {
        var first = SafeFileName.Encode("workspace/" + new string('Q', 400));
        var second = SafeFileName.Encode("workspace/" + new string('Q', 399) + "R");

        Assert.NotEqual(first, second);
        Assert.All([first, second], name =>
        {
            Assert.True(name.Length <= SafeFileName.MaxLength);
            Assert.StartsWith("workspace_2f_51", name);
            Assert.Matches("~[0-9a-f]{64}$", name);
            Assert.DoesNotMatch("_[0-9a-f]?~", name); // never cut inside an escape
        });
    }
}
