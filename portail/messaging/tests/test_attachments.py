"""The attachment check: type from the content, lying extensions, damaged files, sizes, names."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin
from pypdf import PdfReader, PdfWriter

from portail.messaging.attachments import EXTENSIONS, SIGNATURES, attachment_check, attachment_clean_name
from portail.messaging.enums import AttachmentType
from portail.messaging.factories import image_bytes, pdf_bytes, uploaded
from portail.messaging.models import ATTACHMENT_MAX_BYTES, ATTACHMENT_NAME_MAX_LENGTH


def refusal(name: str, data: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        attachment_check(uploaded(name, data))
    return caught.value


def png_of_exact_size(size: int) -> bytes:
    """A valid PNG padded with a text chunk to exactly `size` bytes."""
    base = len(image_bytes("PNG"))
    info = PngImagePlugin.PngInfo()
    overhead = 12 + len("Comment") + 1  # chunk length, type and CRC, the keyword and its NUL
    info.add_text("Comment", "x" * (size - base - overhead))
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (30, 90, 160)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


class TestAcceptedFiles:
    def test_a_real_pdf(self):
        assert attachment_check(uploaded("Relevé de mars.pdf", pdf_bytes())) == (
            "application/pdf",
            "Relevé de mars.pdf",
        )

    @pytest.mark.parametrize(
        ("fmt", "name", "expected"),
        [
            ("PNG", "photo.png", ("image/png", "photo.png")),
            ("PNG", "PHOTO.PNG", ("image/png", "PHOTO.png")),
            ("JPEG", "carte vitale.jpg", ("image/jpeg", "carte vitale.jpg")),
            ("JPEG", "carte vitale.jpeg", ("image/jpeg", "carte vitale.jpeg")),
        ],
    )
    def test_real_images(self, fmt, name, expected):
        assert attachment_check(uploaded(name, image_bytes(fmt))) == expected

    def test_a_name_without_extension_gets_the_one_of_its_content(self):
        assert attachment_check(uploaded("scan du 03.2026", image_bytes("JPEG"))) == (
            "image/jpeg",
            "scan du 03.2026.jpg",
        )

    def test_exactly_5_mb_is_not_too_big(self):
        data = png_of_exact_size(ATTACHMENT_MAX_BYTES)
        assert len(data) == ATTACHMENT_MAX_BYTES
        assert attachment_check(uploaded("grand.png", data))[0] == "image/png"

    def test_the_file_is_left_at_its_start(self):
        file = uploaded("a.pdf", pdf_bytes())
        attachment_check(file)
        assert file.read(5) == b"%PDF-"


class TestRefusedFiles:
    def test_an_empty_file(self):
        error = refusal("vide.pdf", b"")
        assert error.code == "empty"
        assert error.message == "Le fichier « vide.pdf » est vide : choisissez un autre fichier."

    def test_5_mb_and_one_byte(self):
        error = refusal("gros.pdf", b"%PDF-" + b"0" * (ATTACHMENT_MAX_BYTES - 4))
        assert error.code == "too_big"
        assert error.message.startswith("Le fichier fait 5,1 Mo : 5 Mo au plus.")

    def test_the_size_is_said_in_megabytes(self):
        error = refusal("scan.pdf", b"%PDF-" + b"0" * int(7.15 * 1024 * 1024))
        assert error.message.startswith("Le fichier fait 7,2 Mo : 5 Mo au plus.")

    def test_a_png_named_pdf_is_refused_for_its_lying_name(self):
        error = refusal("attestation.pdf", image_bytes("PNG"))
        assert error.code == "extension"
        assert "« .pdf »" in error.message
        assert "une image PNG" in error.message
        assert "« .png »" in error.message
        assert "son nom ne correspond pas à son contenu" in error.message

    def test_a_pdf_named_txt_is_refused_for_its_lying_name(self):
        assert refusal("notes.txt", pdf_bytes()).code == "extension"

    def test_a_text_file_named_pdf(self):
        error = refusal("lettre.pdf", b"Bonjour, voici ma demande.")
        assert error.code == "type"
        assert error.message.startswith("Ce fichier n'est ni un PDF, ni une image JPEG ou PNG : ")

    @pytest.mark.parametrize("cut", [0.5, 0.9, 0.99])
    def test_a_truncated_pdf(self, cut):
        data = pdf_bytes()
        error = refusal("coupé.pdf", data[: int(len(data) * cut)])
        assert error.code == "damaged"
        assert error.message.startswith("Ce PDF est abîmé ou incomplet")

    def test_a_fake_pdf_with_only_the_markers(self):
        assert refusal("faux.pdf", b"%PDF-1.7\nrien du tout\n%%EOF\n").code == "damaged"

    def test_a_password_protected_pdf(self):
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes())))
        writer.encrypt(user_password="secret", algorithm="RC4-128")
        buffer = io.BytesIO()
        writer.write(buffer)
        assert refusal("protégé.pdf", buffer.getvalue()).code == "encrypted"

    @pytest.mark.parametrize(("fmt", "name"), [("PNG", "photo.png"), ("JPEG", "photo.jpg")])
    def test_a_truncated_image(self, fmt, name):
        data = image_bytes(fmt, size=(300, 200))
        error = refusal(name, data[: len(data) // 2])
        assert error.code == "damaged"
        assert error.message.startswith("Cette image est abîmée ou incomplète")

    def test_an_image_with_too_many_pixels(self):
        buffer = io.BytesIO()
        Image.new("1", (10_000, 7_000)).save(buffer, "PNG")  # 70 million pixels, a few kilobytes
        error = refusal("immense.png", buffer.getvalue())
        assert error.code == "too_many_pixels"


class TestCleanName:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("../../etc/passwd.pdf", "passwd.pdf"),
            ("C:\\Users\\Léa\\Documents\\scan.PDF", "scan.pdf"),
            ("\x00mal\nveillant\x1b.pdf", "malveillant.pdf"),
            ('<b>alert("x")<b>.pdf', "b alert( x ) b.pdf"),
            ('<script>alert("x")</script>.pdf', "script.pdf"),  # a slash ends a path
            (".pdf", "piece-jointe.pdf"),
            ("   ", "piece-jointe.pdf"),
            ("E\u0301tat des lieux.pdf", "État des lieux.pdf"),
        ],
    )
    def test_names(self, name, expected):
        assert attachment_clean_name(name=name, content_type=AttachmentType.PDF) == expected

    def test_a_long_name_is_shortened_and_keeps_its_extension(self):
        name = attachment_clean_name(name="a" * 300 + ".jpeg", content_type=AttachmentType.JPEG)
        assert len(name) == ATTACHMENT_NAME_MAX_LENGTH
        assert name.endswith(".jpeg")

    @given(name=st.text(max_size=300), content_type=st.sampled_from(list(AttachmentType)))
    def test_any_name_gives_a_safe_one(self, name, content_type):
        clean = attachment_clean_name(name=name, content_type=content_type)
        assert 0 < len(clean) <= ATTACHMENT_NAME_MAX_LENGTH
        assert not any(character in clean for character in '/\\"\r\n\x00<>')
        assert clean.endswith(EXTENSIONS[content_type])
        assert not clean.startswith(".")


prefixes = st.sampled_from([b""] + [signature for signature, _type in SIGNATURES])


class TestRandomInput:
    @settings(max_examples=300, deadline=None)
    @given(prefix=prefixes, data=st.binary(max_size=4096), name=st.text(max_size=60))
    def test_random_bytes_never_crash_and_are_refused_unless_valid(self, prefix, data, name):
        content = prefix + data
        try:
            # ContentFile: any name at all, even one Django's upload parser would never hand over.
            content_type, clean_name = attachment_check(ContentFile(content, name=name))
        except ValidationError as error:
            assert error.code in {"empty", "type", "extension", "damaged", "encrypted", "too_many_pixels"}
            assert error.message
        else:
            # Accepted only when it really is what its first bytes say and its name does not lie.
            assert any(content.startswith(signature) and content_type == kind for signature, kind in SIGNATURES)
            assert clean_name.endswith(EXTENSIONS[AttachmentType(content_type)])
