using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace CloudDevEnv.Silo.Hosting.Cluster;

/// <summary>ASP.NET Core's data-protection keys in PostgreSQL (table <c>cde_dataprotection_keys</c>, migration 0002):
/// every API process reads and adds the same keys, so that a session cookie or a sign-in's state made by one is read
/// by the others.</summary>
internal sealed class PostgresXmlRepository(string connectionString) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var read = new NpgsqlCommand("SELECT xml FROM cde_dataprotection_keys ORDER BY created_at", connection);
        using var reader = read.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read())
        {
            elements.Add(XElement.Parse(reader.GetString(0)));
        }

        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var write = new NpgsqlCommand(
            "INSERT INTO cde_dataprotection_keys (friendly_name, xml) VALUES (@name, @xml) ON CONFLICT (friendly_name) DO NOTHING", connection);
        write.Parameters.AddWithValue("name", friendlyName);
        write.Parameters.AddWithValue("xml", element.ToString(SaveOptions.DisableFormatting));
        write.ExecuteNonQuery();
    }
}
