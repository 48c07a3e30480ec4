using System.Globalization;
using System.Text;

namespace CloudDevEnv.DevContainers.Jsonc;

/// <summary>JSON with comments (<c>//</c>, <c>/* */</c>) and trailing commas, as devcontainer.json is
/// written. Hand-written rather than System.Text.Json so that every value keeps its line and column
/// (errors found after parsing can point at the text) and syntax errors say what was expected in
/// words a repository author understands.</summary>
/// <remarks>Stricter than the reference CLI on purpose: its jsonc-parser is fault tolerant and the CLI
/// discards the errors, so a missing comma there silently yields a partial configuration. Here any
/// syntax error is reported; only comments and trailing commas are tolerated beyond JSON.</remarks>
internal sealed class JsoncParser
{
    // Generous for configuration files, small enough that a hostile file cannot exhaust the stack.
    private const int MaxDepth = 128;

    private readonly string _text;
    private int _index;
    private int _line = 1;
    private int _lineStart;

    private JsoncParser(string text)
    {
        _text = text;
    }

    /// <exception cref="JsoncSyntaxException">The text is not JSONC.</exception>
    public static JsoncNode Parse(string text)
    {
        var parser = new JsoncParser(text);
        if (parser.Current == '\uFEFF')
        {
            parser._index++;
        }
        parser.SkipTrivia();
        if (parser.AtEnd)
        {
            throw new JsoncSyntaxException("the file is empty; expected a JSON object", parser.Position);
        }
        var value = parser.ParseValue(0);
        parser.SkipTrivia();
        if (!parser.AtEnd)
        {
            throw new JsoncSyntaxException(
                $"unexpected {parser.Describe()} after the end of the top-level value", parser.Position);
        }
        return value;
    }

    private bool AtEnd => _index >= _text.Length;

    private char Current => _index < _text.Length ? _text[_index] : '\0';

    private JsoncPosition Position => new(_line, _index - _lineStart + 1);

    private JsoncNode ParseValue(int depth)
    {
        if (depth > MaxDepth)
        {
            throw new JsoncSyntaxException($"values are nested more than {MaxDepth} levels deep", Position);
        }
        if (AtEnd)
        {
            throw new JsoncSyntaxException("unexpected end of file; expected a value", Position);
        }
        var c = Current;
        switch (c)
        {
            case '{':
                return ParseObject(depth);
            case '[':
                return ParseArray(depth);
            case '"':
                {
                    var position = Position;
                    return new JsoncString(ParseString(), position);
                }
            case '\'':
                throw new JsoncSyntaxException("strings must be in double quotes, not single quotes", Position);
            case '-':
                return ParseNumber();
        }
        if (c is >= '0' and <= '9')
        {
            return ParseNumber();
        }
        if (IsWordChar(c))
        {
            var position = Position;
            var word = ReadWord();
            return word switch
            {
                "true" => new JsoncBoolean(true, position),
                "false" => new JsoncBoolean(false, position),
                "null" => new JsoncNull(position),
                _ => throw new JsoncSyntaxException(
                    $"unexpected word '{word}'; strings must be in double quotes", position),
            };
        }
        throw new JsoncSyntaxException($"expected a value but found {Describe()}", Position);
    }

    private JsoncObject ParseObject(int depth)
    {
        var start = Position;
        _index++;
        var properties = new List<JsoncProperty>();
        var indexByName = new Dictionary<string, int>(StringComparer.Ordinal);
        SkipTrivia();
        if (Current == '}' && !AtEnd)
        {
            _index++;
            return new JsoncObject(properties, start);
        }
        while (true)
        {
            SkipTrivia();
            if (AtEnd)
            {
                throw Unclosed("object", start);
            }
            if (Current != '"')
            {
                var reason = IsWordChar(Current) || Current == '\''
                    ? "property names must be in double quotes"
                    : $"expected a property name in double quotes but found {Describe()}";
                throw new JsoncSyntaxException(reason, Position);
            }
            var namePosition = Position;
            var name = ParseString();
            SkipTrivia();
            if (Current != ':' || AtEnd)
            {
                throw new JsoncSyntaxException(
                    $"expected ':' after the property name \"{name}\" but found {Describe()}", Position);
            }
            _index++;
            SkipTrivia();
            var value = ParseValue(depth + 1);
            var property = new JsoncProperty(name, namePosition, value);
            if (indexByName.TryGetValue(name, out var existing))
            {
                properties[existing] = property;
            }
            else
            {
                indexByName[name] = properties.Count;
                properties.Add(property);
            }
            SkipTrivia();
            if (AtEnd)
            {
                throw Unclosed("object", start);
            }
            if (Current == '}')
            {
                _index++;
                return new JsoncObject(properties, start);
            }
            if (Current != ',')
            {
                throw new JsoncSyntaxException(
                    $"expected ',' or '}}' after the value of \"{name}\" but found {Describe()}", Position);
            }
            _index++;
            SkipTrivia();
            if (Current == '}' && !AtEnd)
            {
                // A trailing comma, as VS Code and the reference CLI accept.
                _index++;
                return new JsoncObject(properties, start);
            }
        }
    }

    private JsoncArray ParseArray(int depth)
    {
        var start = Position;
        _index++;
        var items = new List<JsoncNode>();
        SkipTrivia();
        if (Current == ']' && !AtEnd)
        {
            _index++;
            return new JsoncArray(items, start);
        }
        while (true)
        {
            SkipTrivia();
            if (AtEnd)
            {
                throw Unclosed("array", start);
            }
            if (Current == ',')
            {
                throw new JsoncSyntaxException("expected a value but found ','", Position);
            }
            items.Add(ParseValue(depth + 1));
            SkipTrivia();
            if (AtEnd)
            {
                throw Unclosed("array", start);
            }
            if (Current == ']')
            {
                _index++;
                return new JsoncArray(items, start);
            }
            if (Current != ',')
            {
                throw new JsoncSyntaxException(
                    $"expected ',' or ']' after an array element but found {Describe()}", Position);
            }
            _index++;
            SkipTrivia();
            if (Current == ']' && !AtEnd)
            {
                _index++;
                return new JsoncArray(items, start);
            }
        }
    }

    private string ParseString()
    {
        var start = Position;
        _index++;
        var builder = new StringBuilder();
        while (true)
        {
            if (AtEnd || Current is '\n' or '\r')
            {
                throw new JsoncSyntaxException("unterminated string (missing closing '\"')", start);
            }
            var c = Current;
            if (c == '"')
            {
                _index++;
                var value = builder.ToString();
                if (HasUnpairedSurrogate(value))
                {
                    // Nothing downstream (environment, argv, JSON writers) can carry one faithfully.
                    throw new JsoncSyntaxException("the string contains an unpaired UTF-16 surrogate (\\uD800-\\uDFFF)", start);
                }
                return value;
            }
            if (c == '\\')
            {
                builder.Append(ParseEscape());
                continue;
            }
            if (c < ' ')
            {
                throw new JsoncSyntaxException(
                    $"{Describe()} is not allowed inside a string; write it as an escape such as \\t or \\n", Position);
            }
            builder.Append(c);
            _index++;
        }
    }

    private char ParseEscape()
    {
        var position = Position;
        _index++;
        if (AtEnd)
        {
            throw new JsoncSyntaxException("unterminated string (missing closing '\"')", position);
        }
        var c = Current;
        _index++;
        switch (c)
        {
            case '"': return '"';
            case '\\': return '\\';
            case '/': return '/';
            case 'b': return '\b';
            case 'f': return '\f';
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case 'u':
                if (_index + 4 <= _text.Length
                    && int.TryParse(_text.AsSpan(_index, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                {
                    _index += 4;
                    return (char)code;
                }
                throw new JsoncSyntaxException("invalid escape sequence: \\u must be followed by four hex digits", position);
            default:
                throw new JsoncSyntaxException($"invalid escape sequence '\\{c}' in a string", position);
        }
    }

    private JsoncNumber ParseNumber()
    {
        var start = Position;
        var begin = _index;
        if (Current == '-')
        {
            _index++;
        }
        if (Current == '0' && !AtEnd)
        {
            _index++;
            if (IsDigit(Current))
            {
                throw new JsoncSyntaxException("invalid number: leading zeros are not allowed", start);
            }
        }
        else if (IsDigit(Current))
        {
            SkipDigits();
        }
        else
        {
            throw new JsoncSyntaxException("invalid number: expected a digit after '-'", start);
        }
        if (Current == '.' && !AtEnd)
        {
            _index++;
            if (!IsDigit(Current))
            {
                throw new JsoncSyntaxException("invalid number: expected a digit after '.'", start);
            }
            SkipDigits();
        }
        if (Current is 'e' or 'E' && !AtEnd)
        {
            _index++;
            if (Current is '+' or '-')
            {
                _index++;
            }
            if (!IsDigit(Current))
            {
                throw new JsoncSyntaxException("invalid number: expected a digit in the exponent", start);
            }
            SkipDigits();
        }
        if (IsWordChar(Current) || Current == '.')
        {
            throw new JsoncSyntaxException(
                $"invalid number '{_text[begin..(_index + 1)]}'", start);
        }
        return new JsoncNumber(_text[begin.._index], start);
    }

    private void SkipDigits()
    {
        while (IsDigit(Current))
        {
            _index++;
        }
    }

    private string ReadWord()
    {
        var begin = _index;
        while (!AtEnd && IsWordChar(Current))
        {
            _index++;
        }
        return _text[begin.._index];
    }

    private void SkipTrivia()
    {
        while (!AtEnd)
        {
            var c = Current;
            if (c == '\n')
            {
                NewLine(1);
            }
            else if (c == '\r')
            {
                NewLine(_index + 1 < _text.Length && _text[_index + 1] == '\n' ? 2 : 1);
            }
            else if (c is ' ' or '\t' or '\v' or '\f' or '\uFEFF' || (c > 127 && char.IsWhiteSpace(c)))
            {
                _index++;
            }
            else if (c == '/' && _index + 1 < _text.Length && _text[_index + 1] == '/')
            {
                while (!AtEnd && Current is not '\n' and not '\r')
                {
                    _index++;
                }
            }
            else if (c == '/' && _index + 1 < _text.Length && _text[_index + 1] == '*')
            {
                SkipBlockComment();
            }
            else
            {
                return;
            }
        }
    }

    private void SkipBlockComment()
    {
        var start = Position;
        _index += 2;
        while (true)
        {
            if (AtEnd)
            {
                throw new JsoncSyntaxException("unterminated comment: '/*' without a closing '*/'", start);
            }
            var c = Current;
            if (c == '*' && _index + 1 < _text.Length && _text[_index + 1] == '/')
            {
                _index += 2;
                return;
            }
            if (c == '\n')
            {
                NewLine(1);
            }
            else if (c == '\r')
            {
                NewLine(_index + 1 < _text.Length && _text[_index + 1] == '\n' ? 2 : 1);
            }
            else
            {
                _index++;
            }
        }
    }

    private void NewLine(int width)
    {
        _index += width;
        _line++;
        _lineStart = _index;
    }

    private JsoncSyntaxException Unclosed(string what, JsoncPosition start) =>
        new($"unexpected end of file: the {what} opened at line {start.Line}, column {start.Column} is not closed", Position);

    private string Describe()
    {
        if (AtEnd)
        {
            return "the end of the file";
        }
        var c = Current;
        if (c == '/' && _index + 1 < _text.Length && _text[_index + 1] is not '/' and not '*')
        {
            return "'/'";
        }
        return c switch
        {
            '\t' => "a tab character",
            '\n' or '\r' => "a line break",
            _ when c < ' ' || char.IsWhiteSpace(c) || char.IsControl(c) || char.IsSurrogate(c) =>
                $"character U+{(int)c:X4}",
            _ => $"'{c}'",
        };
    }

    private static bool HasUnpairedSurrogate(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsDigit(char c) => c is >= '0' and <= '9';

    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '$';
}
