using System.Text;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Cli.Ingest;

/// <summary>
/// Turns files and folders into documents. Text and Markdown files are one document each, identified by
/// their path relative to the folder given (always with '/' separators, so ids are the same on every OS);
/// JSON Lines files hold one document per line with its own id.
/// </summary>
public static class DocumentFileReader
{
    private static readonly string[] TextExtensions = [".txt", ".md", ".markdown"];
    private const string JsonLinesExtension = ".jsonl";

    public static bool IsSupported(string path)
    {
        var extension = Path.GetExtension(path);
        return extension.Equals(JsonLinesExtension, StringComparison.OrdinalIgnoreCase)
            || TextExtensions.Contains(extension, StringComparer.OrdinalIgnoreCase);
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
                throw new UsageException($"{path}: unsupported file type; ingest reads .txt, .md and .jsonl files (and folders of them).");
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

    /// <summary>The text of the first ATX heading (<c># Title</c>) outside fenced code, or null.</summary>
    public static string? FindMarkdownHeading(string text)
    {
        var fenced = false;
        using var reader = new StringReader(text);
        while (reader.ReadLine() is { } line)
        {
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith("```", StringComparison.Ordinal) || trimmed.StartsWith("~~~", StringComparison.Ordinal))
            {
                fenced = !fenced;
                continue;
            }

            // More than three spaces of indentation makes it a code block, not a heading.
            if (fenced || line.Length - trimmed.Length > 3 || !trimmed.StartsWith('#'))
            {
                continue;
            }

            var level = trimmed.TakeWhile(c => c == '#').Count();
            if (level > 6 || (level < trimmed.Length && trimmed[level] != ' ' && trimmed[level] != '\t'))
            {
                continue;
            }

            // A closing run of '#' is decoration, not part of the heading.
            var heading = trimmed[level..].Trim().TrimEnd('#').Trim();
            if (heading.Length > 0)
            {
                return heading;
            }
        }

        return null;
    }

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

        var text = File.ReadAllText(file, Encoding.UTF8);
        if (string.IsNullOrWhiteSpace(text))
        {
            yield return SourceItem.Skip(id, "empty file");
            yield break;
        }

        var isMarkdown = !Path.GetExtension(file).Equals(".txt", StringComparison.OrdinalIgnoreCase);
        var title = (isMarkdown ? FindMarkdownHeading(text) : null) ?? Path.GetFileNameWithoutExtension(file);
        yield return SourceItem.Of(new DocumentInput(id, title, text, null, null), id);
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
