using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents.Tests;

public sealed class HwpxDetailTests
{
    [Fact]
    public async Task Dutmal_and_text_art_are_text_while_page_headers_are_not()
    {
        const string section = """
            <?xml version="1.0" encoding="UTF-8"?>
            <hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph">
              <hp:p styleIDRef="0"><hp:run><hp:ctrl><hp:header><hp:subList><hp:p><hp:run><hp:t>머리말 문구</hp:t></hp:run></hp:p></hp:subList></hp:header></hp:ctrl>
                <hp:t>본문 앞</hp:t><hp:dutmal><hp:mainText>본말</hp:mainText><hp:subText>덧말</hp:subText></hp:dutmal><hp:t>뒤<hp:tab/>탭</hp:t></hp:run></hp:p>
              <hp:p styleIDRef="0"><hp:run><hp:textart text="글맵시␍␊둘째 줄"/></hp:run></hp:p>
            </hs:sec>
            """;
        using var output = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(output, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var writer = new StreamWriter(zip.CreateEntry("mimetype").Open()))
            {
                writer.Write("application/hwp+zip");
            }

            using (var writer = new StreamWriter(zip.CreateEntry("Contents/section0.xml").Open()))
            {
                writer.Write(section.Trim());
            }
        }

        var document = await Parse.FileAsync("detail.hwpx", output.ToArray());

        Assert.Equal(["본문 앞본말 (덧말)뒤 탭", "글맵시 둘째 줄"], Parse.Blocks<ParagraphBlock>(document).Select(p => p.Text));
    }
}
