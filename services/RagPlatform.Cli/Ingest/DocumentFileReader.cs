using System.Text;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Cli.Ingest;

/// <summary>
/// Turns files and folders into what is posted. JSON Lines files hold one document per line with its own id and are
/// posted as documents; every other file the platform reads (PDF, DOCX, PPTX, XLSX, HWPX, HWP, HTML, Markdown, text) is
/// posted as a file for the server to parse, identified by its path relative to the folder given (always with '/'
/// separators, so ids are the same on every OS). Folders are walked in a stable order; hidden entries and files of other
/// types are left out of folders; empty files are skipped.
/// </summary>
public static class DocumentFileReader
{
    private const string JsonLinesExtension = ".jsonl";

    /// <summary>Extensions of the files a folder walk posts for parsing (the content decides the parser, on the server).</summary>
    public static readonly IReadOnlySet<string> FileExtensions = new HashSet<string>(
        [".pdf", ".docx", ".pptx", ".xlsx", ".hwpx", ".hwp", ".html", ".htm", ".xhtml", ".md", ".markdown", ".txt", ".text"],
        StringComparer.OrdinalIgnoreCase);

    public static bool IsSupported(string path)
    {
        var extension = Path.GetExtension(path);
        return extension.Equals(JsonLinesExtension, StringComparison.OrdinalIgnoreCase) || FileExtensions.Contains(extension);
    }

    /// <summary>Refuses paths that do not exist or files of an unsupported type before anything is posted.</summary>
    public static void CheckPaths(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                continue;
            }

            if (!File.Exists(path) && path.StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"unrecognised option '{path}'. Platform settings are given as --Section:Key=value.");
            }

            if (!File.Exists(path))
            {
                throw new UsageException($"no such file or directory: {path}");
            }

            if (!IsSupported(path))
            {
                throw new UsageException($"{path}: unsupported file type; ingest reads {string.Join(", ", FileExtensions.Order())} files, " +
                    ".jsonl documents, and folders of them.");
            }
        }
    }

    public static IEnumerable<SourceItem> Read(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var root = Path.GetFullPath(path);
                foreach (var file in EnumerateFolder(root))
                {
                    foreach (var item in ReadFile(file, root))
                    {
                        yield return item;
                    }
                }
            }
            else
            {
                var file = Path.GetFullPath(path);
                foreach (var item in ReadFile(file, Path.GetDirectoryName(file)!))
                {
                    yield return item;
                }
            }
        }
    }

    /// <summary>The path of <paramref name="file"/> under <paramref name="root"/>, '/'-separated.</summary>
    public static string RelativeId(string root, string file) =>
        Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/').Replace(Path.AltDirectorySeparatorChar, '/');

    private static IEnumerable<SourceItem> ReadFile(string file, string root)
    {
        var id = RelativeId(root, file);
        if (Path.GetExtension(file).Equals(JsonLinesExtension, StringComparison.OrdinalIgnoreCase))
        {
            using var reader = new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            foreach (var item in JsonLinesDocuments.Read(reader, id))
            {
                yield return item;
            }

            yield break;
        }

        yield return IsEmpty(file) ? SourceItem.Skip(id, "empty file") : SourceItem.OfFile(file, id);
    }

    /// <summary>No bytes, or a text file of only whitespace: nothing to index, and not an error.</summary>
    private static bool IsEmpty(string file)
    {
        var info = new FileInfo(file);
        if (info.Length == 0)
        {
            return true;
        }

        if (info.Length > 64 * 1024 || ContentSniffer.TypeOfExtension(file) is not (DocumentContentTypes.PlainText or DocumentContentTypes.Markdown))
        {
            return false;
        }

        return string.IsNullOrWhiteSpace(File.ReadAllText(file, Encoding.UTF8));
    }

    /// <summary>Supported files under a folder, in a stable order; hidden files and folders (.git) are left out.</summary>
    private static IEnumerable<string> EnumerateFolder(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
        {
            if (!Path.GetFileName(file).StartsWith('.') && IsSupported(file))
            {
                yield return file;
            }
        }

        foreach (var child in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(child).StartsWith('.'))
            {
                continue;
            }

            foreach (var file in EnumerateFolder(child))
            {
                yield return file;
            }
        }
    }
}
