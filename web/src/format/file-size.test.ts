import { describe, expect, it } from "vitest";
import { formatFileSize } from "./file-size.js";

describe("formatFileSize", () => {
  it("shows bytes, then KB, MB and GB with one decimal below 10", () => {
    expect(formatFileSize(0)).toBe("0 B");
    expect(formatFileSize(812)).toBe("812 B");
    expect(formatFileSize(1024)).toBe("1 KB");
    expect(formatFileSize(1536)).toBe("1.5 KB");
    expect(formatFileSize(14 * 1024 + 100)).toBe("14 KB");
    expect(formatFileSize(5 * 1024 * 1024)).toBe("5 MB");
    expect(formatFileSize(3.44 * 1024 * 1024)).toBe("3.4 MB");
    expect(formatFileSize(1.2 * 1024 ** 3)).toBe("1.2 GB");
  });
});
