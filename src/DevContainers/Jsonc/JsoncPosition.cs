namespace CloudDevEnv.DevContainers.Jsonc;

/// <summary>A 1-based line and column (in UTF-16 code units, as editors count them).</summary>
internal readonly record struct JsoncPosition(int Line, int Column);
