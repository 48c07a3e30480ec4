namespace CloudDevEnv.LocalStorage.Tests;

public sealed class FileStorageOptionsValidatorTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void A_missing_directory_setting_fails()
    {
        var result = new FileStorageOptionsValidator().Validate("store", new FileStorageOptions());

        Assert.True(result.Failed);
        Assert.Contains("Directory is required", result.FailureMessage);
    }

    [Fact]
    public void A_missing_folder_is_created()
    {
        var folder = Path.Combine(_directory.Path, "nested", "data");

        var result = new FileStorageOptionsValidator().Validate("store", new FileStorageOptions { Directory = folder });

        Assert.True(result.Succeeded);
        Assert.True(Directory.Exists(folder));
        Assert.Empty(Directory.GetFiles(folder)); // the write probe is gone
    }

    [Fact]
    public void A_folder_that_cannot_be_created_fails()
    {
        var file = Path.Combine(_directory.Path, "a-file");
        File.WriteAllText(file, "");

        var result = new FileStorageOptionsValidator().Validate("store", new FileStorageOptions { Directory = Path.Combine(file, "data") });

        Assert.True(result.Failed);
        Assert.Contains("cannot be created or written", result.FailureMessage);
    }
}
