namespace CloudDevEnv.DevContainers.Jsonc;

/// <summary>A parsed JSONC value that remembers where it was written, so that later checks
/// (a refused runArgs entry, a wrong type) can point the user at the line.</summary>
internal abstract record JsoncNode(JsoncPosition Position)
{
    /// <summary>The JSON type name used in error messages.</summary>
    public abstract string Kind { get; }
}

internal sealed record JsoncString(string Value, JsoncPosition Position) : JsoncNode(Position)
{
    public override string Kind => "a string";
}

/// <param name="Text">The number as written; JSON numbers are kept verbatim so nothing is lost
/// before a reader decides whether it wants an integer or a fraction.</param>
internal sealed record JsoncNumber(string Text, JsoncPosition Position) : JsoncNode(Position)
{
    public override string Kind => "a number";
}

internal sealed record JsoncBoolean(bool Value, JsoncPosition Position) : JsoncNode(Position)
{
    public override string Kind => Value ? "true" : "false";
}

internal sealed record JsoncNull(JsoncPosition Position) : JsoncNode(Position)
{
    public override string Kind => "null";
}

internal sealed record JsoncArray(IReadOnlyList<JsoncNode> Items, JsoncPosition Position) : JsoncNode(Position)
{
    public override string Kind => "an array";
}

internal sealed record JsoncProperty(string Name, JsoncPosition NamePosition, JsoncNode Value);

/// <param name="Properties">In file order, duplicates collapsed: like JavaScript's JSON.parse (which the
/// reference CLI uses) the last value wins and keeps the place of the first.</param>
internal sealed record JsoncObject(IReadOnlyList<JsoncProperty> Properties, JsoncPosition Position) : JsoncNode(Position)
{
    public override string Kind => "an object";

    public JsoncNode? this[string name]
    {
        get
        {
            foreach (var property in Properties)
            {
                if (property.Name == name)
                {
                    return property.Value;
                }
            }
            return null;
        }
    }

    public bool Contains(string name) => this[name] is not null;
}
